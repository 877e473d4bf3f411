"""Support shared by the tests and the benchmarks: databases, ports, groups, bot processes."""
