"""`make bench` / `python -m bench [--quick] [--runs N]`: the programme at ten times its real
size, loaded through the real CLI, and the timings, memory and query counts against their
targets (bench/results.md)."""
