// summary: GET /v1/metrics/summary as tables.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

#include "context.hpp"

namespace sb::sbctl {
namespace {

using nlohmann::json;

const json& At(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Number(const json& v, int decimals = 3) {
  if (v.is_null()) return "-";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return fmt::format("{:.{}f}", v.get<double>(), decimals);
  return Cell(v);
}

std::string Percent(const json& v) { return v.is_number() ? fmt::format("{:.1f}%", v.get<double>() * 100) : "-"; }

// Minor units as major units with two decimals, per currency: "1299.00 USD".
std::string Money(long long cents, const std::string& currency) {
  const char* sign = cents < 0 ? "-" : "";
  unsigned long long abs = cents < 0 ? -static_cast<unsigned long long>(cents) : cents;
  return fmt::format("{}{}.{:02} {}", sign, abs / 100, abs % 100, currency);
}

std::string MoneyList(const json& list) {
  std::string out;
  for (const auto& m : list.is_array() ? list : json::array()) {
    if (!out.empty()) out += ", ";
    out += Money(At(m, "amount_cents").get<long long>(), At(m, "currency").get<std::string>());
  }
  return out.empty() ? "0" : out;
}

void PrintSummary(const json& s) {
  std::cout << "Range " << Cell(At(s, "from")) << " .. " << Cell(At(s, "to")) << " (" << Cell(At(s, "timezone"))
            << ")\n\n";
  const auto& conv = At(s, "conversations");
  const auto& by = At(conv, "by_channel");
  const auto& funnel = At(s, "funnel");
  std::vector<std::vector<std::string>> rows = {
      {"conversations", Number(At(conv, "total"))},
      {"  messenger", Number(At(by, "messenger"))},
      {"  instagram", Number(At(by, "instagram"))},
      {"  whatsapp", Number(At(by, "whatsapp"))},
      {"messages in / out", Number(At(At(s, "messages"), "in")) + " / " + Number(At(At(s, "messages"), "out"))},
      {"first response p50 / p90 (s)",
       Number(At(At(s, "first_response_s"), "p50")) + " / " + Number(At(At(s, "first_response_s"), "p90"))},
      {"resolution p50 / p90 (s)",
       Number(At(At(s, "resolution_s"), "p50")) + " / " + Number(At(At(s, "resolution_s"), "p90"))},
      {"bot handled / contained / escalated", Number(At(At(s, "bot"), "handled")) + " / " +
                                                  Number(At(At(s, "bot"), "contained")) + " / " +
                                                  Number(At(At(s, "bot"), "escalated"))},
      {"bot containment", Percent(At(At(s, "bot"), "containment_rate"))},
      {"SLA breaches", Number(At(At(s, "sla"), "breached"))},
  };
  for (const char* stage : {"order_status", "any_intent"}) {
    const auto& f = At(funnel, stage);
    rows.push_back({std::string("funnel ") + stage + " -> sale",
                    Number(At(f, "conversations")) + " -> " + Number(At(f, "sales")) + " (" +
                        Percent(At(f, "conversion_rate")) + "), revenue " + MoneyList(At(f, "revenue"))});
  }
  PrintTable(std::cout, {"METRIC", "VALUE"}, rows);

  rows.clear();
  for (const auto& q : At(s, "queues").is_array() ? At(s, "queues") : json::array()) {
    rows.push_back(
        {Cell(At(q, "queue_id")), Cell(At(q, "name")), Number(At(q, "waiting")), Number(At(q, "oldest_wait_s"), 1)});
  }
  std::cout << "\nQueues now\n";
  PrintTable(std::cout, {"QUEUE", "NAME", "WAITING", "OLDEST_WAIT_S"}, rows);

  rows.clear();
  for (const auto& ad : At(s, "ads").is_array() ? At(s, "ads") : json::array()) {
    const auto& currencies = At(ad, "by_currency");
    if (!currencies.is_array() || currencies.empty()) {
      rows.push_back({Cell(At(ad, "ad_id")), Cell(At(ad, "name")), Cell(At(ad, "campaign")),
                      Number(At(ad, "conversations")), Number(At(ad, "sales")), "-", "-", "-"});
    }
    for (const auto& c : currencies.is_array() ? currencies : json::array()) {
      const auto currency = At(c, "currency").get<std::string>();
      rows.push_back({Cell(At(ad, "ad_id")), Cell(At(ad, "name")), Cell(At(ad, "campaign")),
                      Number(At(ad, "conversations")), Number(At(ad, "sales")),
                      Money(At(c, "revenue_cents").get<long long>(), currency),
                      Money(At(c, "spend_cents").get<long long>(), currency), Number(At(c, "roas"), 2)});
    }
  }
  std::cout << "\nAds\n";
  PrintTable(std::cout, {"AD_ID", "NAME", "CAMPAIGN", "CONVERSATIONS", "SALES", "REVENUE", "SPEND", "ROAS"}, rows);

  const auto& series = At(s, "series");
  if (series.is_array() && !series.empty()) {
    rows.clear();
    for (const auto& b : series) {
      rows.push_back({Cell(At(b, "start")), Number(At(b, "conversations")), Number(At(b, "messages_in")),
                      Number(At(b, "messages_out")), Number(At(b, "sales")), MoneyList(At(b, "revenue")),
                      Number(At(b, "first_response_p50_s"))});
    }
    std::cout << "\nBy " << Cell(At(s, "bucket")) << "\n";
    PrintTable(std::cout, {"START", "CONVERSATIONS", "IN", "OUT", "SALES", "REVENUE", "FIRST_RESPONSE_P50_S"}, rows);
  }
}

}  // namespace

void AddSummaryCommand(CLI::App& app, Context& ctx) {
  struct Flags {
    std::optional<std::string> from, to, bucket;
  };
  auto f = std::make_shared<Flags>();
  auto* summary = app.add_subcommand("summary", "The business's metrics for a range (GET /v1/metrics/summary)");
  summary->add_option("--from", f->from, "Start, inclusive (ISO 8601, e.g. 2026-11-21T00:00:00Z; default to-7d)");
  summary->add_option("--to", f->to, "End, exclusive (default now)");
  summary->add_option("--bucket", f->bucket, "hour or day: add a time series")->check(CLI::IsMember({"hour", "day"}));
  summary->callback([&ctx, f] {
    std::string query;
    auto add = [&](const char* key, const std::optional<std::string>& v) {
      if (v) query += (query.empty() ? "?" : "&") + std::string(key) + "=" + UrlEncode(*v);
    };
    add("from", f->from);
    add("to", f->to);
    add("bucket", f->bucket);
    auto answer = ctx.Client().Expect("GET", "/v1/metrics/summary" + query, nullptr, {200});
    if (ctx.json_output) return ctx.PrintJson(answer);
    PrintSummary(answer);
  });
}

}  // namespace sb::sbctl
