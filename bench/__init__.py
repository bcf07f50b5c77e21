"""Benchmarks of sms-bot against the floor it stands on (see BENCHMARKS.md).

Each module is one command that prints its figures, with its baseline measured in the
same run so the result is a ratio: ``python -m bench.ack``, ``bench.throughput``,
``bench.bulk``, ``bench.coldstart``; ``python -m bench`` runs them all. Traffic goes
to 127.0.0.1 only, every loop is bounded, every process started is stopped.
"""
