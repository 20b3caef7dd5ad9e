#include "models/llm/model/llm_config.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/model_config.h"

namespace recsys::llm {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 20;  // far above any model the runtime is meant for

absl::Status Invalid(const GgufFile& f, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(f.name(), ": ", what));
}

absl::StatusOr<int64_t> Dim(const GgufFile& f, const std::string& key) {
  RECSYS_ASSIGN_OR_RETURN(const int64_t v, f.GetInt(key));
  if (v <= 0 || v > kMaxDim) return Invalid(f, absl::StrCat("key '", key, "' is ", v));
  return v;
}

// Heads and KV groups that divide the hidden size into whole, even heads; sets head_dim.
// `where` names the file and the keys.
absl::Status SetHeadDim(const std::string& where, LlmConfig* c) {
  if (c->hidden % c->heads != 0 || c->heads % c->kv_heads != 0 || (c->hidden / c->heads) % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": hidden size ", c->hidden, ", ", c->heads, " heads and ", c->kv_heads,
                     " KV heads do not divide into whole, even heads and groups"));
  }
  c->head_dim = c->hidden / c->heads;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LlmConfig> LlmConfig::FromGguf(const GgufFile& f) {
  LlmConfig c;
  RECSYS_ASSIGN_OR_RETURN(const absl::string_view arch, f.GetString("general.architecture"));
  c.arch_name = std::string(arch);
  if (arch == "llama") {
    c.arch = LlmArch::kLlama;
    c.rope_interleaved = true;
  } else if (arch == "qwen2") {
    c.arch = LlmArch::kQwen2;
    c.rope_interleaved = false;
    c.qkv_bias = true;
  } else {
    return Invalid(f, absl::StrCat("architecture '", arch, "' is not run (llama, qwen2 are)"));
  }
  const std::string a = c.arch_name + ".";
  RECSYS_ASSIGN_OR_RETURN(c.layers, Dim(f, a + "block_count"));
  RECSYS_ASSIGN_OR_RETURN(c.hidden, Dim(f, a + "embedding_length"));
  RECSYS_ASSIGN_OR_RETURN(c.intermediate, Dim(f, a + "feed_forward_length"));
  RECSYS_ASSIGN_OR_RETURN(c.heads, Dim(f, a + "attention.head_count"));
  c.kv_heads = c.heads;
  if (f.Find(a + "attention.head_count_kv") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(c.kv_heads, Dim(f, a + "attention.head_count_kv"));
  }
  if (f.Find(a + "context_length") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(c.context_length, Dim(f, a + "context_length"));
  }
  if (f.Find(a + "rope.freq_base") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(const double theta, f.GetFloat(a + "rope.freq_base"));
    if (!(theta > 1.0)) return Invalid(f, absl::StrCat("key '", a, "rope.freq_base' is ", theta));
    c.rope_theta = static_cast<float>(theta);
  }
  if (f.Find(a + "attention.layer_norm_rms_epsilon") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(const double eps, f.GetFloat(a + "attention.layer_norm_rms_epsilon"));
    if (!(eps > 0 && eps < 1)) {
      return Invalid(f, absl::StrCat("key '", a, "attention.layer_norm_rms_epsilon' is ", eps));
    }
    c.rms_eps = static_cast<float>(eps);
  }
  RECSYS_RETURN_IF_ERROR(SetHeadDim(f.name(), &c));
  if (f.Find(a + "rope.dimension_count") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(const int64_t rope_dims, f.GetInt(a + "rope.dimension_count"));
    if (rope_dims != c.head_dim) {
      return Invalid(f, absl::StrCat("key '", a, "rope.dimension_count' is ", rope_dims,
                                     "; only rope over the whole head (", c.head_dim, ") is run"));
    }
  }
  const GgufTensor* embed = f.FindTensor("token_embd.weight");
  if (embed == nullptr) return Invalid(f, "tensor 'token_embd.weight' is missing");
  if (embed->dims.size() != 2 || embed->dims[0] != c.hidden) {
    return Invalid(f,
                   absl::StrCat("tensor 'token_embd.weight' is not [", c.hidden, ", vocabulary]"));
  }
  c.vocab_size = embed->dims[1];
  c.tied_output = f.FindTensor("output.weight") == nullptr;
  c.rope_freq_factors = f.FindTensor("rope_freqs.weight") != nullptr;
  return c;
}

absl::StatusOr<LlmConfig> LlmConfig::FromExport(const std::string& directory) {
  RECSYS_ASSIGN_OR_RETURN(const models::ModelConfig json,
                          models::ModelConfig::ReadOf(directory, "llm"));
  LlmConfig c;
  RECSYS_ASSIGN_OR_RETURN(c.arch_name, json.String("arch"));
  if (c.arch_name == "llama") {
    c.arch = LlmArch::kLlama;
  } else if (c.arch_name == "qwen2") {
    c.arch = LlmArch::kQwen2;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(json.path(), ": arch '", c.arch_name, "' is not run (llama, qwen2 are)"));
  }
  c.rope_interleaved = false;
  struct Field {
    const char* key;
    int64_t* value;
  };
  for (const Field& f : {Field{"vocab_size", &c.vocab_size}, Field{"hidden", &c.hidden},
                         Field{"intermediate", &c.intermediate}, Field{"layers", &c.layers},
                         Field{"heads", &c.heads}, Field{"kv_heads", &c.kv_heads},
                         Field{"context_length", &c.context_length}}) {
    RECSYS_ASSIGN_OR_RETURN(*f.value, json.Int(f.key));
    if (*f.value <= 0 || *f.value > kMaxDim) {
      return absl::InvalidArgumentError(absl::StrCat(json.path(), ": ", f.key, " is ", *f.value));
    }
  }
  RECSYS_ASSIGN_OR_RETURN(const double theta, json.Number("rope_theta"));
  RECSYS_ASSIGN_OR_RETURN(const double eps, json.Number("rms_eps"));
  RECSYS_ASSIGN_OR_RETURN(const int64_t tied, json.Int("tied"));
  RECSYS_ASSIGN_OR_RETURN(const int64_t bias, json.Int("qkv_bias"));
  RECSYS_ASSIGN_OR_RETURN(const int64_t factors, json.Int("rope_factors"));
  if (!(theta > 1.0) || !(eps > 0 && eps < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(json.path(), ": rope_theta ", theta, " or rms_eps ", eps, " out of range"));
  }
  c.rope_theta = static_cast<float>(theta);
  c.rms_eps = static_cast<float>(eps);
  c.tied_output = tied != 0;
  c.qkv_bias = bias != 0;
  c.rope_freq_factors = factors != 0;
  RECSYS_RETURN_IF_ERROR(SetHeadDim(json.path(), &c));
  return c;
}

}  // namespace recsys::llm
