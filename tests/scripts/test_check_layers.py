"""scripts/check-layers on small made-up trees: each kind of violation is
caught, with its sentence, and a clean tree passes."""

import os
import subprocess
import tempfile
import unittest

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                     "check-layers")
LAYERS = "low\nmid/a mid/b\nhigh\n"


class CheckLayersTest(unittest.TestCase):

    def run_on(self, files, layers=LAYERS):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "scripts"))
            with open(os.path.join(root, "scripts", "layers"), "w") as f:
                f.write(layers)
            for path, text in files.items():
                os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
                with open(os.path.join(root, path), "w") as f:
                    f.write(text)
            proc = subprocess.run([CHECK, "--root", root], capture_output=True, text=True)
            return proc.returncode, proc.stdout

    def test_downward_includes_pass(self):
        code, out = self.run_on({"low/l.h": "", "mid/a/a.h": '#include "low/l.h"\n',
                                 "high/h.cc": '#include "mid/a/a.h"\n#include <vector>\n'})
        self.assertEqual(code, 0, out)
        self.assertIn("layering holds", out)

    def test_upward_include_fails(self):
        code, out = self.run_on({"high/h.h": "", "low/l.cc": '#include "high/h.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn('low/l.cc: includes "high/h.h" of high, a higher layer than low', out)

    def test_sibling_include_fails(self):
        code, out = self.run_on({"mid/b/b.h": "", "mid/a/a.cc": '#include "mid/b/b.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn("a sibling of mid/a in the same layer", out)

    def test_folder_cycle_fails(self):
        code, out = self.run_on({"high/x.h": '#include "high/sub/y.h"\n',
                                 "high/sub/y.h": '#include "high/x.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn("folders include each other in a cycle: high -> high/sub -> high", out)

    def test_folder_in_no_layer_fails(self):
        code, out = self.run_on({"stray/s.cc": ""})
        self.assertEqual(code, 1)
        self.assertIn("stray/s.cc: its folder is in no layer of scripts/layers", out)


if __name__ == "__main__":
    unittest.main()
