"""The pure survey rules: policies, scales, sampling, throttling and the survey lifecycle."""
