"""Database faults under load. PostgreSQL stopped (fast shutdown) for 5 s:
503 with Retry-After meanwhile, no answer later than Meta's 5 s, service
again by itself after PostgreSQL returns (the time is measured and printed),
nothing acknowledged lost. The writer's connections terminated
(pg_terminate_backend) while they commit batches: the same guarantees.
The single-request version of the outage is tests/e2e/test_db_outage.py."""

import sys
import unittest

import scenarios


class DbFaultsTest(unittest.TestCase):
    def test_postgresql_restart_under_load(self):
        result = scenarios.db_restart(down_s=5.0, before_s=2.0, after_s=5.0, rate_per_kind=40)
        print(scenarios.summary(result), file=sys.stderr)
        print(f"reconnected {result['reconnect_s']:.2f} s after PostgreSQL's return"
              if result["reconnect_s"] is not None else "did not reconnect", file=sys.stderr)
        self.assertEqual(result["problems"], [], scenarios.summary(result))

    def test_writer_connections_terminated_mid_batch(self):
        result = scenarios.backend_drop(duration_s=8.0, rate_per_kind=60)
        print(scenarios.summary(result), file=sys.stderr)
        self.assertEqual(result["problems"], [], scenarios.summary(result))


if __name__ == "__main__":
    unittest.main()
