-- One database per service: no service ever reads another's tables.
CREATE DATABASE intake;
CREATE DATABASE routing;
CREATE DATABASE sla;
CREATE DATABASE metrics;
CREATE DATABASE surveys;
