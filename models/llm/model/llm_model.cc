#include "models/llm/model/llm_model.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/layers.h"
#include "models/llm/model/tensor_source.h"
#include "recsys/kernels/attention_mass.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/memory.h"
#include "recsys/kernels/rows.h"

namespace recsys::llm {
namespace {

absl::Status Invalid(const std::string& what) { return absl::InvalidArgumentError(what); }

absl::Status CheckIndices(const char* field, const std::vector<int64_t>& at, int64_t n) {
  for (size_t i = 0; i < at.size(); ++i) {
    if (at[i] < 0 || at[i] >= n) {
      return Invalid(
          absl::StrCat(field, "[", i, "] = ", at[i], " is not one of the ", n, " new positions"));
    }
  }
  return absl::OkStatus();
}

absl::Status RmsNorm(const kernels::Device& device, const float* x, const models::Weights& w,
                     int64_t rows, int64_t cols, float eps, float* y) {
  kernels::RmsNormParams p;
  p.x = x;
  p.gamma = w.data();
  p.y = y;
  p.rows = rows;
  p.cols = cols;
  p.eps = eps;
  return kernels::RmsNorm(device, p);
}

absl::Status Rope(const kernels::Device& device, float* x, const int64_t* positions, int64_t n,
                  int64_t heads, const LlmConfig& c, const models::Weights& factors) {
  kernels::RopeParams p;
  p.x = x;
  p.positions = positions;
  p.tokens = n;
  p.heads = heads;
  p.head_dim = c.head_dim;
  p.theta = c.rope_theta;
  p.interleaved = c.rope_interleaved;
  p.freq_factors = c.rope_freq_factors ? factors.data() : nullptr;
  return kernels::Rope(device, p);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LlmModel>> LlmModel::Load(const std::string& path,
                                                         const kernels::Device& device) {
  std::unique_ptr<LlmModel> m(new LlmModel());
  m->device_ = device;
  // The GGUF (or the export's tokenizer.gguf) and the tensors stay open: the weights are used
  // in place on the CPU.
  std::unique_ptr<GgufFile>& file = m->file_;
  std::unique_ptr<TensorSource>& tensors = m->tensors_;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    RECSYS_ASSIGN_OR_RETURN(m->config_, LlmConfig::FromExport(path));
    RECSYS_ASSIGN_OR_RETURN(file, GgufFile::Open(path + "/tokenizer.gguf"));
    RECSYS_ASSIGN_OR_RETURN(tensors, ExportTensors(path + "/model.safetensors"));
  } else {
    RECSYS_ASSIGN_OR_RETURN(file, GgufFile::Open(path));
    RECSYS_ASSIGN_OR_RETURN(m->config_, LlmConfig::FromGguf(*file));
    tensors = GgufTensors(*file);
  }
  RECSYS_ASSIGN_OR_RETURN(m->tokenizer_, Tokenizer::FromGguf(*file));
  if (m->tokenizer_->vocab().size() != m->config_.vocab_size) {
    return Invalid(absl::StrCat(path, ": the tokenizer has ", m->tokenizer_->vocab().size(),
                                " tokens, the model ", m->config_.vocab_size));
  }
  RECSYS_ASSIGN_OR_RETURN(m->weights_, LlmWeights::Load(*tensors, m->config_, device));
  return m;
}

absl::StatusOr<KvCache> LlmModel::NewCache(int64_t capacity, int64_t layers) const {
  if (layers < 0) layers = config_.layers;
  if (layers == 0 || layers > config_.layers) {
    return Invalid(absl::StrCat("layers: ", layers, " is not 1..", config_.layers));
  }
  return KvCache::Create(device_, layers, config_.kv_heads, config_.head_dim, capacity);
}

absl::Status LlmModel::CheckInput(const LlmInput& in, const LlmOutputs& out,
                                  const KvCache& cache) const {
  const int64_t n = static_cast<int64_t>(in.tokens.size());
  if (n == 0) return Invalid("tokens: no positions to run");
  int64_t vectors = 0;
  for (size_t i = 0; i < in.tokens.size(); ++i) {
    if (in.tokens[i] == -1) {
      ++vectors;
    } else if (in.tokens[i] < 0 || in.tokens[i] >= config_.vocab_size) {
      return Invalid(absl::StrCat("tokens[", i, "] = ", in.tokens[i], " is outside the ",
                                  config_.vocab_size, "-token vocabulary"));
    }
  }
  if (static_cast<int64_t>(in.vectors.size()) != vectors * config_.hidden) {
    return Invalid(absl::StrCat("vectors: ", in.vectors.size(), " floats for ", vectors,
                                " vector positions of ", config_.hidden));
  }
  if (!in.positions.empty() && static_cast<int64_t>(in.positions.size()) != n) {
    return Invalid(absl::StrCat("positions: ", in.positions.size(), " for ", n, " positions"));
  }
  for (size_t i = 0; i < in.positions.size(); ++i) {
    if (in.positions[i] < 0) return Invalid(absl::StrCat("positions[", i, "] is negative"));
  }
  if (in.mask == kernels::AttentionMask::kCausalSets) {
    if (static_cast<int64_t>(in.set_ids.size()) != n) {
      return Invalid(absl::StrCat("set_ids: ", in.set_ids.size(), " for ", n, " positions"));
    }
    if (cache.length() != 0) return Invalid("set_ids: the set mask needs an empty cache");
  } else if (in.mask != kernels::AttentionMask::kCausal) {
    return Invalid("mask: a decoder runs causal or causal-set masks only");
  }
  if (cache.length() + n > cache.capacity()) {
    return absl::ResourceExhaustedError(absl::StrCat("the cache holds ", cache.capacity(),
                                                     " positions: ", cache.length(), " cached + ",
                                                     n, " new do not fit"));
  }
  RECSYS_RETURN_IF_ERROR(CheckIndices("logits_at", out.logits_at, n));
  RECSYS_RETURN_IF_ERROR(CheckIndices("hidden_at", out.hidden_at, n));
  if (cache.layers() > config_.layers ||
      cache.row_floats() != config_.kv_heads * config_.head_dim) {
    return Invalid("cache: not made by this model's NewCache");
  }
  if ((!out.logits_at.empty() || !out.hidden_at.empty()) && cache.layers() < config_.layers) {
    return Invalid(absl::StrCat("logits_at / hidden_at: the cache holds ", cache.layers(), " of ",
                                config_.layers, " layers; outputs after the last layer need all"));
  }
  if (out.mass_begin < 0 || out.mass_end > n || out.mass_begin > out.mass_end) {
    return Invalid(absl::StrCat("mass span [", out.mass_begin, ", ", out.mass_end,
                                ") is not within the ", n, " new positions"));
  }
  for (size_t i = 0; i < out.mass_layers.size(); ++i) {
    if (out.mass_layers[i] < 0 || out.mass_layers[i] >= cache.layers()) {
      return Invalid(absl::StrCat("mass_layers[", i, "] = ", out.mass_layers[i], " is not one of ",
                                  cache.layers(), " layers (of the cache)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LlmResult> LlmModel::Forward(const LlmInput& in, const LlmOutputs& out,
                                            KvCache* cache, const LlmControl& control) const {
  RECSYS_RETURN_IF_ERROR(CheckInput(in, out, *cache));
  const LlmConfig& c = config_;
  const kernels::Device& dev = device_;
  const int64_t n = static_cast<int64_t>(in.tokens.size());
  const int64_t past = cache->length(), keys = past + n;
  const int64_t qdim = c.heads * c.head_dim, kvdim = c.kv_heads * c.head_dim;
  const bool want_mass = out.mass_end > out.mass_begin && !out.mass_layers.empty();
  const bool want_rows = !out.logits_at.empty() || !out.hidden_at.empty();
  // Every layer of the cache runs unless the attention mass is the only output (a run with no
  // outputs fills the cache: a prefix). A cache of fewer layers than the model stops there.
  const int64_t depth = cache->layers();
  int64_t last_layer = want_mass && !want_rows ? -1 : depth - 1;
  if (want_mass) {
    last_layer =
        std::max(last_layer, *std::max_element(out.mass_layers.begin(), out.mass_layers.end()));
  }
  std::vector<uint8_t> mass_layer(static_cast<size_t>(c.layers), 0);
  for (int64_t l : out.mass_layers) mass_layer[l] = 1;

  models::Workspace ws(dev);
  // Inputs: token embeddings, with caller vectors in their rows.
  std::vector<int64_t> ids(n), positions(n);
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = std::max<int32_t>(in.tokens[i], 0);
    positions[i] = in.positions.empty() ? past + i : in.positions[i];
  }
  RECSYS_ASSIGN_OR_RETURN(const int64_t* ids_dev, ws.Upload(ids));
  RECSYS_ASSIGN_OR_RETURN(const int64_t* pos_dev, ws.Upload(positions));
  RECSYS_ASSIGN_OR_RETURN(float* x, ws.Floats(n * c.hidden));
  RECSYS_RETURN_IF_ERROR(weights_.embed.GatherRows(dev, ids.data(), ids_dev, n, x));
  for (int64_t i = 0, v = 0; i < n; ++i) {
    if (in.tokens[i] != -1) continue;
    RECSYS_RETURN_IF_ERROR(kernels::CopyToDevice(dev, x + i * c.hidden,
                                                 in.vectors.data() + v++ * c.hidden,
                                                 c.hidden * static_cast<int64_t>(sizeof(float))));
  }
  const int32_t* set_ids = nullptr;
  if (in.mask == kernels::AttentionMask::kCausalSets) {
    RECSYS_ASSIGN_OR_RETURN(set_ids, ws.Upload(in.set_ids));
  }
  RECSYS_ASSIGN_OR_RETURN(float* h, ws.Floats(n * c.hidden));
  RECSYS_ASSIGN_OR_RETURN(float* q, ws.Floats(n * qdim));
  RECSYS_ASSIGN_OR_RETURN(float* att, ws.Floats(n * qdim));
  RECSYS_ASSIGN_OR_RETURN(float* gate, ws.Floats(n * c.intermediate));
  RECSYS_ASSIGN_OR_RETURN(float* up, ws.Floats(n * c.intermediate));
  float* mass = nullptr;
  if (want_mass) {
    RECSYS_ASSIGN_OR_RETURN(mass, ws.Upload(std::vector<float>(keys, 0.0f)));
  }

  LlmResult result;
  for (int64_t l = 0; l <= last_layer; ++l) {
    if (absl::Now() > control.deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("deadline passed after ", l, " of ", c.layers, " layers"));
    }
    if (control.cancelled && control.cancelled()) {
      return absl::CancelledError(absl::StrCat("cancelled after ", l, " of ", c.layers, " layers"));
    }
    const LlmLayerWeights& w = weights_.layers[l];
    float* k = cache->keys(l) + past * kvdim;
    float* v = cache->values(l) + past * kvdim;
    RECSYS_RETURN_IF_ERROR(RmsNorm(dev, x, w.attn_norm, n, c.hidden, c.rms_eps, h));
    RECSYS_RETURN_IF_ERROR(w.q.Apply(dev, h, n, c.qkv_bias ? w.q_bias.data() : nullptr, q));
    RECSYS_RETURN_IF_ERROR(w.k.Apply(dev, h, n, c.qkv_bias ? w.k_bias.data() : nullptr, k));
    RECSYS_RETURN_IF_ERROR(w.v.Apply(dev, h, n, c.qkv_bias ? w.v_bias.data() : nullptr, v));
    RECSYS_RETURN_IF_ERROR(Rope(dev, q, pos_dev, n, c.heads, c, weights_.rope_factors));
    RECSYS_RETURN_IF_ERROR(Rope(dev, k, pos_dev, n, c.kv_heads, c, weights_.rope_factors));
    kernels::AttentionParams a;
    a.q = q;
    a.k = cache->keys(l);
    a.v = cache->values(l);
    a.out = att;
    a.batch = 1;
    a.q_len = n;
    a.kv_len = keys;
    a.num_heads = c.heads;
    a.num_kv_heads = c.kv_heads;
    a.head_dim = c.head_dim;
    a.mask = in.mask;
    a.set_ids = set_ids;
    RECSYS_RETURN_IF_ERROR(kernels::Attention(dev, a));
    if (want_mass && mass_layer[l]) {
      kernels::AttentionMassParams m;
      m.q = q + out.mass_begin * qdim;
      m.k = cache->keys(l);
      m.q_len = out.mass_end - out.mass_begin;
      m.kv_len = keys;
      m.num_heads = c.heads;
      m.num_kv_heads = c.kv_heads;
      m.head_dim = c.head_dim;
      m.q_position = past + out.mass_begin;
      m.mass = mass;
      m.accumulate = true;
      RECSYS_RETURN_IF_ERROR(kernels::AttentionMass(dev, m));
    }
    RECSYS_RETURN_IF_ERROR(w.o.Apply(dev, att, n, nullptr, h));
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(dev, x, h, n * c.hidden));
    RECSYS_RETURN_IF_ERROR(RmsNorm(dev, x, w.ffn_norm, n, c.hidden, c.rms_eps, h));
    RECSYS_RETURN_IF_ERROR(w.gate.Apply(dev, h, n, nullptr, gate));
    RECSYS_RETURN_IF_ERROR(w.up.Apply(dev, h, n, nullptr, up));
    RECSYS_RETURN_IF_ERROR(kernels::SwiGlu(dev, gate, up, gate, n * c.intermediate));
    RECSYS_RETURN_IF_ERROR(w.down.Apply(dev, gate, n, nullptr, h));
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(dev, x, h, n * c.hidden));
    result.layers_run = l + 1;
  }
  // The new positions are cached only when every layer of the cache wrote them.
  if (result.layers_run == depth) cache->set_length(keys);

  if (want_mass) {
    RECSYS_ASSIGN_OR_RETURN(result.mass, models::Download(dev, mass, keys));
  }
  auto final_rows = [&](const std::vector<int64_t>& at, float** rows) -> absl::Status {
    const int64_t m = static_cast<int64_t>(at.size());
    RECSYS_ASSIGN_OR_RETURN(const int64_t* at_dev, ws.Upload(at));
    RECSYS_ASSIGN_OR_RETURN(*rows, ws.Floats(m * c.hidden));
    RECSYS_RETURN_IF_ERROR(models::GatherRowsOf(dev, x, n, c.hidden, at_dev, m, *rows));
    return RmsNorm(dev, *rows, weights_.output_norm, m, c.hidden, c.rms_eps, *rows);
  };
  if (!out.hidden_at.empty()) {
    float* rows = nullptr;
    RECSYS_RETURN_IF_ERROR(final_rows(out.hidden_at, &rows));
    RECSYS_ASSIGN_OR_RETURN(result.hidden,
                            models::Download(dev, rows, out.hidden_at.size() * c.hidden));
  }
  if (!out.logits_at.empty()) {
    const int64_t m = static_cast<int64_t>(out.logits_at.size());
    float* rows = nullptr;
    RECSYS_RETURN_IF_ERROR(final_rows(out.logits_at, &rows));
    RECSYS_ASSIGN_OR_RETURN(float* logits, ws.Floats(m * c.vocab_size));
    const WeightMatrix& head = c.tied_output ? weights_.embed : weights_.output;
    RECSYS_RETURN_IF_ERROR(head.Apply(dev, rows, m, nullptr, logits));
    RECSYS_ASSIGN_OR_RETURN(result.logits, models::Download(dev, logits, m * c.vocab_size));
  }
  return result;
}

absl::StatusOr<std::vector<int32_t>> LlmModel::Generate(const std::vector<int32_t>& prompt,
                                                        int64_t max_new,
                                                        const LlmControl& control) const {
  if (prompt.empty()) return Invalid("prompt: no tokens");
  constexpr int64_t kMaxPositions = int64_t{1} << 24;
  if (max_new < 0 || max_new > kMaxPositions) {
    return Invalid(absl::StrCat("max_new: ", max_new, " is outside [0, ", kMaxPositions, "]"));
  }
  RECSYS_ASSIGN_OR_RETURN(
      KvCache cache, NewCache(static_cast<int64_t>(prompt.size()) + std::max<int64_t>(max_new, 1)));
  const Vocab& vocab = tokenizer_->vocab();
  std::vector<int32_t> generated;
  LlmInput in;
  in.tokens = prompt;
  while (static_cast<int64_t>(generated.size()) < max_new) {
    LlmOutputs out;
    out.logits_at = {static_cast<int64_t>(in.tokens.size()) - 1};
    RECSYS_ASSIGN_OR_RETURN(LlmResult r, Forward(in, out, &cache, control));
    const int32_t next =
        static_cast<int32_t>(std::max_element(r.logits.begin(), r.logits.end()) - r.logits.begin());
    generated.push_back(next);
    if (next == vocab.eos || next == vocab.eot) break;
    in.tokens = {next};
  }
  return generated;
}

}  // namespace recsys::llm
