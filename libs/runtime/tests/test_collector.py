import asyncio
import gc

import pytest

from helpdesk_runtime.collector import collector_paused


@pytest.fixture(autouse=True)
def _collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_comes_back_after_an_exception():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


async def test_overlapping_requests_resume_it_only_when_the_last_one_leaves():
    first_inside, second_left = asyncio.Event(), asyncio.Event()
    seen: list[bool] = []

    async def long_report() -> None:
        with collector_paused():
            first_inside.set()
            await second_left.wait()
            seen.append(gc.isenabled())

    async def short_report() -> None:
        await first_inside.wait()
        with collector_paused():
            await asyncio.sleep(0)
        second_left.set()

    await asyncio.gather(long_report(), short_report())
    assert seen == [False]
    assert gc.isenabled()
