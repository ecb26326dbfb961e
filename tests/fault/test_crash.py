"""SIGKILL under load: the server is killed at random moments while signed
webhooks of all three channel kinds arrive and the router assigns
conversations to agents; it is restarted, the load generators re-deliver
every request that got no 200, and then every acknowledged message is stored
exactly once and conversations and assignments are consistent. The long
version (5 kills) runs in `tools/dev reliability`."""

import sys
import unittest

import scenarios


class CrashTest(unittest.TestCase):
    def test_sigkill_under_load_loses_nothing_acknowledged(self):
        result = scenarios.crash(kills=2, duration_s=14, rate_per_kind=60)
        print(scenarios.summary(result), file=sys.stderr)
        self.assertEqual(result["problems"], [], scenarios.summary(result))
        self.assertEqual(len(result["restart_s"]), 2)
        led = result["ledger"]
        self.assertGreater(led["acknowledged"], 0, "nothing was acknowledged")


if __name__ == "__main__":
    unittest.main()
