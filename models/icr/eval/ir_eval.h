// Re-ranking evaluation data and metrics: TREC-style qrels and runs, nDCG@k as trec_eval
// computes ndcg_cut (gain = the judged grade, DCG over the run's top k with log2(rank + 1)
// discounts, the ideal DCG from all judged documents of the query, queries without a
// relevant document skipped, the mean over the rest), a BM25 first stage (Robertson's
// idf, k1 = 0.9, b = 0.4 as Pyserini's defaults), and the two collections of rerank-eval:
// TREC DL19 passages with BM25 top-100 (RankGPT's retrieve_results JSON) and Cranfield-1400
// (SMART files, qrels corrected for trec_eval).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace recsys::icr::eval {

struct Document {
  std::string id, title, text;
};

struct Query {
  std::string id, text;
  std::vector<Document> candidates;  // first-stage order, best first
};

// qid -> docid -> grade (> 0: relevant).
using Qrels = std::map<std::string, std::map<std::string, int>>;

// nDCG@k of one ranked list of document ids for the query's judgements; -1 when the query has
// no relevant document (trec_eval skips it).
double NdcgAt(const std::vector<std::string>& ranked, const std::map<std::string, int>& judged,
              int k);

// The mean NdcgAt over the queries that have a relevant document; `ranked` per query id.
double MeanNdcgAt(const std::map<std::string, std::vector<std::string>>& ranked, const Qrels& qrels,
                  int k, int* counted = nullptr);

// BM25 over a collection; terms are lower-cased runs of ASCII letters and digits.
class Bm25 {
 public:
  explicit Bm25(const std::vector<Document>& collection, double k1 = 0.9, double b = 0.4);
  // The top `k` documents (indices into the collection) for `query`, best first (ties: lower
  // index first).
  std::vector<int> Search(const std::string& query, int k) const;
  static std::vector<std::string> Terms(const std::string& text);

 private:
  double k1_, b_, average_length_ = 0;
  std::vector<int> lengths_;
  std::map<std::string, std::vector<std::pair<int, int>>> postings_;  // term -> (doc, tf)
};

// TREC DL19 from RankGPT's retrieve_results JSON and the qrels JSON.
absl::Status ReadTrecDl(const std::string& run_json, const std::string& qrels_json,
                        std::vector<Query>* queries, Qrels* qrels);

// Cranfield-1400 (cran.all.1400, cran.qry, QRelsCorrectedforTRECeval) with each query's BM25
// top `depth` as its candidates. Grade 5 (the old "no judgement" rows) is dropped.
absl::Status ReadCranfield(const std::string& dir, int depth, std::vector<Query>* queries,
                           Qrels* qrels);

}  // namespace recsys::icr::eval
