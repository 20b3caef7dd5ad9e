// The seqrec service module: serves the SASRec / BERT4Rec models of the model repository
// (<--model_repo>/<name>/<version>/) with recsys.seqrec.v1, reading histories from the
// feature store. Flags in seqrec_module.cc.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/service_module.h"

namespace recsys::seqrec {

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeSeqRecModule(const ServiceEnv& env);

}  // namespace recsys::seqrec
