#include "services/seqrec/seqrec_module.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "recsys/kernels/device.h"
#include "services/common/deprecated_flag.h"
#include "services/common/model_service.h"
#include "services/common/validation.h"
#include "services/seqrec/seqrec_service.h"

RECSYS_MODEL_SERVICE_FLAGS(seqrec, "sasrec or bert4rec", /*max_batch=*/64,
                           /*max_delay=*/absl::Milliseconds(2), /*max_queue=*/1024,
                           /*max_batch_users=*/256)
ABSL_FLAG(int64_t, seqrec_max_k, 1000, "seqrec: largest k of Recommend.");
RECSYS_FLAG_WITH_ALIAS(int64_t, seqrec_max_candidates, max_candidates, 1000,
                       "seqrec: candidates per Score query.")
ABSL_FLAG(std::string, seqrec_device, "cpu",
          "Where the SASRec / BERT4Rec forward pass runs: cpu, cuda:<ordinal> or auto (the "
          "first GPU when one is visible, else the CPU). Scoring against the item table "
          "stays on the CPU.");
ABSL_FLAG(std::string, seqrec_index, "flat",
          "FAISS index Recommend's RETRIEVAL_INDEX builds over an item table in the feature "
          "store: flat (exact), ivf_flat or hnsw (approximate, faster on large catalogues).");

namespace recsys::seqrec {
namespace {

absl::StatusOr<store::IndexSpec> IndexFromFlag() {
  store::IndexSpec index;
  const std::string type = absl::GetFlag(FLAGS_seqrec_index);
  if (type == "flat") {
    index.type = store::IndexType::kFlat;
  } else if (type == "ivf_flat") {
    index.type = store::IndexType::kIvfFlat;
  } else if (type == "hnsw") {
    index.type = store::IndexType::kHnsw;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--seqrec_index: '", type, "' is not flat, ivf_flat or hnsw"));
  }
  return index;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeSeqRecModule(const ServiceEnv& env) {
  RECSYS_ASSIGN_OR_RETURN(store::IndexSpec index, IndexFromFlag());
  absl::StatusOr<kernels::Device> device = kernels::ParseDevice(absl::GetFlag(FLAGS_seqrec_device));
  if (!device.ok()) {
    return absl::Status(device.status().code(),
                        absl::StrCat("--seqrec_device: ", device.status().message()));
  }
  SeqRecLimits limits;
  limits.max_k = absl::GetFlag(FLAGS_seqrec_max_k);
  limits.max_candidates = seqrec_max_candidates_FlagValue();
  RECSYS_RETURN_IF_ERROR(CheckPositiveFlags(
      {{"--seqrec_max_k", limits.max_k}, {"--seqrec_max_candidates", limits.max_candidates}}));
  ModelServiceSpec<SeqRecModel> spec;
  spec.name = "seqrec";
  spec.grpc_name = v1::SeqRecService::service_full_name();
  spec.architectures = {"sasrec", "bert4rec"};
  spec.flags = seqrec_ModelServiceFlags();
  spec.load = [device = *device](const std::string& dir) { return SeqRecModel::Load(dir, device); };
  spec.warm_up = [](const SeqRecModel& m) { return m.UserVectors({{1}}).status(); };
  return MakeModelServiceModule<SeqRecService>(
      env, std::move(spec), [&](const ModelServiceContext& context) {
        return std::make_unique<SeqRecService>(context, limits, index);
      });
}

}  // namespace recsys::seqrec
