// The ingest statement's plan grows with the batch, not with its square:
// every node of it, the triggers' statements included, handles at most as
// many rows as the batch has messages (read from auto_explain's
// EXPLAIN ANALYZE of each statement the batch runs).
#include <algorithm>
#include <regex>

#include "ingest_batch.hpp"
#include "pg_fixture.hpp"
#include "session.hpp"

namespace sb::pgtest {
namespace {

/// The largest actual row count of any plan node in `plans`.
long MostRowsOfANode(const std::string& plans) {
  static const std::regex kActual(R"(actual (?:time=[0-9.]+\.\.[0-9.]+ )?rows=([0-9]+) loops=([0-9]+))");
  long most = 0;
  for (std::sregex_iterator it(plans.begin(), plans.end(), kActual), end; it != end; ++it) {
    most = std::max(most, std::stol((*it)[1]) * std::stol((*it)[2]));
  }
  return most;
}

class IngestPlanTest : public StoreDb {};

TEST_F(IngestPlanTest, NoNodeHandlesMoreRowsThanTheBatchHasMessages) {
  constexpr int kMessages = 200;
  std::vector<IngestRequest> requests;
  for (int i = 0; i < kMessages; ++i) {
    auto n = std::to_string(i);
    requests.push_back(OneMessage(whatsapp_, "1555010" + n, "wamid.plan." + n));
  }
  std::vector<const IngestRequest*> pointers;
  for (const auto& r : requests) pointers.push_back(&r);
  store::IngestBatch batch = store::BuildIngestBatch(pointers);

  pqxx::connection conn(url_);
  ServerMessages messages(conn);
  pqxx::work tx(conn);
  tx.exec0("LOAD 'auto_explain'");
  tx.exec0("SET LOCAL auto_explain.log_min_duration = 0");
  tx.exec0("SET LOCAL auto_explain.log_analyze = on");
  tx.exec0("SET LOCAL auto_explain.log_timing = off");
  tx.exec0("SET LOCAL auto_explain.log_nested_statements = on");
  tx.exec0("SET LOCAL client_min_messages = log");
  store::Session session(tx);
  auto stored =
      session.Exec("ingest/ingest_messages", batch.archives, batch.messages, pqxx::binarystring(batch.bodies));
  tx.commit();

  ASSERT_EQ(stored.size(), static_cast<std::size_t>(kMessages)) << "expected every message of the batch stored";
  ASSERT_NE(messages.text.find("Insert on messages"), std::string::npos)
      << "expected auto_explain's plan of the ingest statement, got:\n"
      << messages.text.substr(0, 2000);
  EXPECT_LE(MostRowsOfANode(messages.text), kMessages)
      << "expected no plan node to handle more rows than the batch's " << kMessages << " messages:\n"
      << messages.text;
}

}  // namespace
}  // namespace sb::pgtest
