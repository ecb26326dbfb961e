"""Overload: a burst of 3x the measured capacity. The server answers 503
(not timeouts), its memory stays bounded (peak RSS printed), and it is back
to full service within seconds of the burst's end (printed). The long
version (30 s) runs in `tools/dev reliability`."""

import sys
import unittest

import scenarios


class OverloadTest(unittest.TestCase):
    def test_three_times_capacity(self):
        # On a 2-core machine the load generator, the server and PostgreSQL
        # compete for the cores, so the times here are bounds, not targets:
        # every request answered (503 or 200) within 25 s and full service
        # within 20 s of the burst's end. Both are printed; the long version
        # (`tools/dev reliability`) holds answers to Meta's 5 s. What must
        # hold whatever the speed: nothing acknowledged lost or doubled.
        result = scenarios.overload(burst_s=4.0, multiple=3.0, measure_s=3.0, after_s=20.0,
                                    burst_timeout_ms=25000, max_answer_s=None)
        print(scenarios.summary(result), file=sys.stderr)
        print(f"capacity {result['capacity_rps']:.0f}/s, offered {result['offered_rps']:.0f}/s, "
              f"peak RSS {result['peak_rss_mb']:.0f} MB, recovered "
              f"{result['recovered_s']} s after the burst, slowest answer {result['answer_ms']['max']:.0f} ms, "
              f"{result['load']['non_200'].get('503', 0)} answered 503", file=sys.stderr)
        self.assertEqual(result["problems"], [], scenarios.summary(result))


if __name__ == "__main__":
    unittest.main()
