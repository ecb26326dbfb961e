"""Overload: a burst of 3x the measured capacity. The server answers 503
(not timeouts), its memory stays bounded (peak RSS printed), and it is back
to full service within seconds of the burst's end (printed). The long
version (30 s) runs in `tools/dev reliability`."""

import sys
import unittest

import scenarios


class OverloadTest(unittest.TestCase):
    def test_three_times_capacity(self):
        result = scenarios.overload(burst_s=4.0, multiple=3.0, measure_s=3.0, after_s=8.0)
        print(scenarios.summary(result), file=sys.stderr)
        print(f"capacity {result['capacity_rps']:.0f}/s, offered {result['offered_rps']:.0f}/s, "
              f"peak RSS {result['peak_rss_mb']:.0f} MB, recovered "
              f"{result['recovered_s']} s after the burst", file=sys.stderr)
        self.assertEqual(result["problems"], [], scenarios.summary(result))


if __name__ == "__main__":
    unittest.main()
