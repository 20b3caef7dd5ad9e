#include "models/icr/eval/ir_eval.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace recsys::icr::eval {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename Message>
absl::Status ParseJson(const std::string& path, Message* out) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  const auto status = google::protobuf::util::JsonStringToMessage(*text, out);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", status.ToString()));
  }
  return absl::OkStatus();
}

std::string NumberOrString(const google::protobuf::Value& v) {
  if (v.kind_case() == google::protobuf::Value::kNumberValue) {
    return absl::StrCat(static_cast<int64_t>(v.number_value()));
  }
  return v.string_value();
}

// SMART records: ".I id" then ".X" fields, each up to the next field line.
std::vector<std::map<char, std::string>> ReadSmart(const std::string& text) {
  std::vector<std::map<char, std::string>> records;
  char field = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);  // the files have CRLF line ends
    if (line.size() >= 2 && line[0] == '.' && std::isupper(static_cast<unsigned char>(line[1])) &&
        (line.size() == 2 || line[2] == ' ')) {
      field = line[1];
      if (field == 'I') {
        records.emplace_back()['I'] = std::string(absl::StripAsciiWhitespace(line.substr(2)));
      }
      continue;
    }
    if (records.empty() || field == 0 || field == 'I') continue;
    std::string& value = records.back()[field];
    if (!value.empty()) value += ' ';
    value += std::string(absl::StripAsciiWhitespace(line));
  }
  return records;
}

}  // namespace

double NdcgAt(const std::vector<std::string>& ranked, const std::map<std::string, int>& judged,
              int k) {
  std::vector<int> gains;
  for (const auto& [doc, grade] : judged) {
    if (grade > 0) gains.push_back(grade);
  }
  if (gains.empty()) return -1;
  std::sort(gains.rbegin(), gains.rend());
  double ideal = 0, dcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(gains.size()); ++i) {
    ideal += gains[i] / std::log2(i + 2.0);
  }
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = judged.find(ranked[i]);
    if (it != judged.end() && it->second > 0) dcg += it->second / std::log2(i + 2.0);
  }
  return dcg / ideal;
}

double MeanNdcgAt(const std::map<std::string, std::vector<std::string>>& ranked, const Qrels& qrels,
                  int k, int* counted) {
  double sum = 0;
  int n = 0;
  for (const auto& [qid, docs] : ranked) {
    auto it = qrels.find(qid);
    if (it == qrels.end()) continue;
    const double v = NdcgAt(docs, it->second, k);
    if (v < 0) continue;
    sum += v;
    ++n;
  }
  if (counted != nullptr) *counted = n;
  return n > 0 ? sum / n : 0;
}

std::vector<std::string> Bm25::Terms(const std::string& text) {
  std::vector<std::string> terms;
  std::string term;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      term += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!term.empty()) {
      terms.push_back(std::move(term));
      term.clear();
    }
  }
  if (!term.empty()) terms.push_back(std::move(term));
  return terms;
}

Bm25::Bm25(const std::vector<Document>& collection, double k1, double b) : k1_(k1), b_(b) {
  for (size_t d = 0; d < collection.size(); ++d) {
    std::map<std::string, int> tf;
    const std::vector<std::string> terms = Terms(collection[d].title + " " + collection[d].text);
    for (const std::string& t : terms) ++tf[t];
    for (const auto& [t, n] : tf) postings_[t].emplace_back(static_cast<int>(d), n);
    lengths_.push_back(static_cast<int>(terms.size()));
    average_length_ += static_cast<double>(terms.size());
  }
  if (!lengths_.empty()) average_length_ /= static_cast<double>(lengths_.size());
}

std::vector<int> Bm25::Search(const std::string& query, int k) const {
  std::vector<double> score(lengths_.size(), 0.0);
  const double n = static_cast<double>(lengths_.size());
  for (const std::string& t : Terms(query)) {
    auto it = postings_.find(t);
    if (it == postings_.end()) continue;
    const double df = static_cast<double>(it->second.size());
    const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
    for (const auto& [d, tf] : it->second) {
      const double norm = k1_ * (1 - b_ + b_ * lengths_[d] / average_length_);
      score[d] += idf * tf * (k1_ + 1) / (tf + norm);
    }
  }
  std::vector<int> order(lengths_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
  order.resize(std::min<size_t>(order.size(), static_cast<size_t>(std::max(k, 0))));
  return order;
}

absl::Status ReadTrecDl(const std::string& run_json, const std::string& qrels_json,
                        std::vector<Query>* queries, Qrels* qrels) {
  google::protobuf::ListValue run;
  if (absl::Status s = ParseJson(run_json, &run); !s.ok()) return s;
  for (const google::protobuf::Value& q : run.values()) {
    const auto& f = q.struct_value().fields();
    Query& query = queries->emplace_back();
    query.text = f.at("query").string_value();
    std::vector<std::pair<double, Document>> hits;
    for (const google::protobuf::Value& h : f.at("hits").list_value().values()) {
      const auto& hf = h.struct_value().fields();
      query.id = NumberOrString(hf.at("qid"));
      hits.push_back({hf.at("rank").number_value(),
                      {NumberOrString(hf.at("docid")), "", hf.at("content").string_value()}});
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [rank, doc] : hits) query.candidates.push_back(std::move(doc));
  }
  google::protobuf::Struct judged;
  if (absl::Status s = ParseJson(qrels_json, &judged); !s.ok()) return s;
  for (const auto& [qid, docs] : judged.fields()) {
    for (const auto& [doc, grade] : docs.struct_value().fields()) {
      int g = 0;
      if (!absl::SimpleAtoi(NumberOrString(grade), &g)) {
        return absl::InvalidArgumentError(absl::StrCat(qrels_json, ": grade of ", qid, "/", doc));
      }
      (*qrels)[qid][doc] = g;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadCranfield(const std::string& dir, int depth, std::vector<Query>* queries,
                           Qrels* qrels) {
  absl::StatusOr<std::string> all = ReadFile(dir + "/cran.all.1400");
  absl::StatusOr<std::string> qry = ReadFile(dir + "/cran.qry");
  absl::StatusOr<std::string> rel = ReadFile(dir + "/QRelsCorrectedforTRECeval");
  for (const auto* s : {&all, &qry, &rel}) {
    if (!s->ok()) return s->status();
  }
  std::vector<Document> collection;
  for (auto& r : ReadSmart(*all)) collection.push_back({r['I'], r['T'], r['W']});
  const std::vector<std::map<char, std::string>> qs = ReadSmart(*qry);
  const Bm25 bm25(collection);
  for (size_t i = 0; i < qs.size(); ++i) {
    Query& q = queries->emplace_back();
    q.id = absl::StrCat(i + 1);  // the qrels number queries in file order, not by .I
    q.text = qs[i].count('W') ? qs[i].at('W') : "";
    for (int d : bm25.Search(q.text, depth)) q.candidates.push_back(collection[d]);
  }
  for (absl::string_view line : absl::StrSplit(*rel, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int grade = 0;
    if (f.size() != 4 || !absl::SimpleAtoi(f[3], &grade)) {
      return absl::InvalidArgumentError(absl::StrCat(dir, ": qrels line '", line, "'"));
    }
    if (grade >= 1 && grade <= 4) (*qrels)[std::string(f[0])][std::string(f[2])] = grade;
  }
  return absl::OkStatus();
}

}  // namespace recsys::icr::eval
