"""The layering check itself: it must fail on a planted violation of each kind, and pass on
a tree that keeps the layers."""
import pathlib
import tempfile
import unittest

import check_layers


class CheckLayersTest(unittest.TestCase):
    def tree(self, files):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        for path, text in files.items():
            p = pathlib.Path(d.name) / path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        return check_layers.check(d.name)

    def test_a_tree_that_keeps_the_layers_passes(self):
        self.assertEqual(self.tree({
            "base/status_macros.h": '#include "absl/status/status.h"\n#include <utility>\n',
            "kernels/src/check.h": '#include "base/status_macros.h"\n',
            "kernels/cpu/gemm.cc": '#include "recsys/kernels/gemm.h"\n#include <cblas.h>\n',
            "store/keys.cc": '#include "recsys/store/feature_store.h"\n#include "rocksdb/db.h"\n',
            "models/sasrec/sasrec.cc": '#include "models/common/layers.h"\n'
                                       '#include "recsys/kernels/attention.h"\n',
            "models/sasrec/CMakeLists.txt": "DEPS recsys::model_files recsys::base\n",
            "models/common/CMakeLists.txt": "recsys_cc_library(\n  NAME model_files\n",
            "base/CMakeLists.txt": "recsys_cc_library(NAME base)\n",
            "services/seqrec/x.cc": '#include "services/common/batcher.h"\n#include <grpcpp/server.h>\n',
        }), [])

    def test_each_kind_of_upward_dependency_is_named(self):
        problems = self.tree({
            "models/sasrec/sasrec.cc": '#include "services/common/status_macros.h"\n',
            "models/dare/dare.h": '#include "recsys/seqrec/v1/seqrec.pb.h"\n',
            "kernels/cpu/topk.cc": '#include "models/common/layers.h"\n',
            "kernels/cpu/x.cc": '  #  include "recsys/store/feature_store.h"\n',
            "store/local_store.cc": '#include <grpcpp/server.h>\n',
            "base/x.h": '#include "kernels/src/check.h"\n',
            "models/common/CMakeLists.txt": "  DEPS recsys::kernels recsys::status\n",
            "store/CMakeLists.txt": "  DEPS gRPC::grpc++  # comment\n",
            "kernels/CMakeLists.txt": "  PRIVATE_DEPS recsys::model_files\n",
            "models/x/y.cc": '#include "../../services/common/batcher.h"\n',
            "kernels/cpu/z.hpp": '#include_next "models/common/layers.h"\n',
            "services/common/CMakeLists.txt": "recsys_cc_library(\n  NAME status\n",
            "models/CMakeLists.txt": "recsys_cc_library(NAME model_files)\n",
        })
        text = "\n".join(problems)
        for where in ("models/sasrec/sasrec.cc:1", "models/dare/dare.h:1", "kernels/cpu/topk.cc:1",
                      "kernels/cpu/x.cc:1", "store/local_store.cc:1", "base/x.h:1",
                      "models/common/CMakeLists.txt:1", "store/CMakeLists.txt:1",
                      "kernels/CMakeLists.txt:1", "models/x/y.cc:1", "kernels/cpu/z.hpp:1"):
            self.assertIn(where, text)
        self.assertEqual(len(problems), 11, text)
        self.assertIn("links recsys::status (services)", text)
        self.assertIn("links recsys::model_files (models); kernels/ may use only base, kernels", text)
        self.assertIn("models/ may include only base, kernels, models", text)

    def test_a_commented_out_target_is_not_a_link(self):
        self.assertEqual(self.tree({"models/CMakeLists.txt": "# not recsys::status\n"}), [])

    def test_the_project_keeps_its_layers(self):
        root = pathlib.Path(__file__).resolve().parents[2]
        self.assertEqual(check_layers.check(root), [])


if __name__ == "__main__":
    unittest.main()
