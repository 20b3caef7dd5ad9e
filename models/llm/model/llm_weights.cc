#include "models/llm/model/llm_weights.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace recsys::llm {
namespace {

class TensorReader {
 public:
  TensorReader(const TensorSource& source, const kernels::Device& device, LlmWeights* w)
      : source_(source), device_(device), w_(w) {}

  // The vector `name` of `size` elements, as fp32 on the device.
  absl::Status Read(const std::string& name, int64_t size, models::Weights* out) {
    RECSYS_RETURN_IF_ERROR(CheckDims(name, {size}));
    std::vector<float> values(static_cast<size_t>(size));
    RECSYS_RETURN_IF_ERROR(source_.Read(name, values.data()));
    w_->expanded_bytes += size * 4;
    RECSYS_ASSIGN_OR_RETURN(*out, models::Weights::Place(device_, std::move(values)));
    return absl::OkStatus();
  }

  // The matrix `name` of ggml shape [cols, rows] (torch's [rows = out, cols = in]).
  absl::Status Read(const std::string& name, int64_t cols, int64_t rows, WeightMatrix* out) {
    RECSYS_RETURN_IF_ERROR(CheckDims(name, {cols, rows}));
    RECSYS_ASSIGN_OR_RETURN(const TensorSource::Bytes bytes, source_.Stored(name));
    absl::StatusOr<WeightMatrix> m =
        WeightMatrix::Load(device_, bytes.type, bytes.data, rows, cols);
    if (!m.ok()) {
      return absl::Status(m.status().code(), absl::StrCat(source_.name(), ": tensor '", name,
                                                          "': ", m.status().message()));
    }
    *out = *std::move(m);
    (out->in_place() ? w_->mapped_bytes : w_->expanded_bytes) += out->bytes();
    return absl::OkStatus();
  }

 private:
  absl::Status CheckDims(const std::string& name, const std::vector<int64_t>& dims) const {
    RECSYS_ASSIGN_OR_RETURN(const std::vector<int64_t> have, source_.Dims(name));
    if (have != dims) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_.name(), ": tensor '", name, "' is [", absl::StrJoin(have, ", "),
                       "]; the hyper-parameters make it [", absl::StrJoin(dims, ", "), "]"));
    }
    return absl::OkStatus();
  }

  const TensorSource& source_;
  const kernels::Device& device_;
  LlmWeights* w_;
};

}  // namespace

absl::StatusOr<LlmWeights> LlmWeights::Load(const TensorSource& source, const LlmConfig& c,
                                            const kernels::Device& device) {
  LlmWeights w;
  TensorReader read(source, device, &w);
  const int64_t d = c.head_dim;
  RECSYS_RETURN_IF_ERROR(read.Read("token_embd.weight", c.hidden, c.vocab_size, &w.embed));
  RECSYS_RETURN_IF_ERROR(read.Read("output_norm.weight", c.hidden, &w.output_norm));
  if (!c.tied_output) {
    RECSYS_RETURN_IF_ERROR(read.Read("output.weight", c.hidden, c.vocab_size, &w.output));
  }
  if (c.rope_freq_factors) {
    RECSYS_RETURN_IF_ERROR(read.Read("rope_freqs.weight", d / 2, &w.rope_factors));
  }
  // Every layer's tensors must be there before anything is sized from the layer count.
  const std::string last = absl::StrCat("blk.", c.layers - 1, ".attn_norm.weight");
  if (!source.Has(last)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source.name(), ": tensor '", last, "' is missing (", c.layers, " layers)"));
  }
  w.layers.resize(static_cast<size_t>(c.layers));
  for (int64_t i = 0; i < c.layers; ++i) {
    LlmLayerWeights& l = w.layers[i];
    const std::string b = absl::StrCat("blk.", i, ".");
    RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_norm.weight", c.hidden, &l.attn_norm));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_q.weight", c.hidden, c.heads * d, &l.q));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_k.weight", c.hidden, c.kv_heads * d, &l.k));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_v.weight", c.hidden, c.kv_heads * d, &l.v));
    if (c.qkv_bias) {
      RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_q.bias", c.heads * d, &l.q_bias));
      RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_k.bias", c.kv_heads * d, &l.k_bias));
      RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_v.bias", c.kv_heads * d, &l.v_bias));
    }
    RECSYS_RETURN_IF_ERROR(read.Read(b + "attn_output.weight", c.heads * d, c.hidden, &l.o));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "ffn_norm.weight", c.hidden, &l.ffn_norm));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "ffn_gate.weight", c.hidden, c.intermediate, &l.gate));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "ffn_up.weight", c.hidden, c.intermediate, &l.up));
    RECSYS_RETURN_IF_ERROR(read.Read(b + "ffn_down.weight", c.intermediate, c.hidden, &l.down));
  }
  return w;
}

}  // namespace recsys::llm
