// businesses, channels, queues, agents, routing: one API call each.
#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

#include "context.hpp"
#include "yaml_json.hpp"

namespace sb::sbctl {
namespace {

template <class T>
void SetIf(nlohmann::json& body, const char* key, const std::optional<T>& value) {
  if (value) body[key] = *value;
}

void AddBusinesses(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("businesses", "Businesses (platform admin token)");
  group->require_subcommand(1);
  auto* create = group->add_subcommand("create", "Create a business; prints its API key (shown once)");
  auto name = std::make_shared<std::string>();
  auto tz = std::make_shared<std::optional<std::string>>();
  create->add_option("--name", *name, "Business name")->required();
  create->add_option("--timezone", *tz, "IANA time zone, e.g. Europe/Madrid (default UTC)");
  create->callback([&ctx, name, tz] {
    nlohmann::json body = {{"name", *name}};
    SetIf(body, "timezone", *tz);
    ctx.PrintJson(ctx.Client().Expect("POST", "/v1/businesses", body, {201}));
  });
}

void AddChannels(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("channels", "Channels of the business");
  group->require_subcommand(1);

  struct Flags {
    std::string kind, external_id, app_secret, verify_token;
    std::optional<std::string> account_id, access_token, name;
  };
  auto f = std::make_shared<Flags>();
  auto* create = group->add_subcommand("create", "Register a Messenger page, Instagram account or WhatsApp number");
  create->add_option("--kind", f->kind, "messenger, instagram or whatsapp")->required();
  create->add_option("--external-id", f->external_id, "Page id, Instagram id or WhatsApp phone_number_id")->required();
  create->add_option("--app-secret", f->app_secret, "The Meta app secret that signs its webhooks")->required();
  create->add_option("--verify-token", f->verify_token, "Token for Meta's verification handshake")->required();
  create->add_option("--account-id", f->account_id, "WhatsApp business account id");
  create->add_option("--access-token", f->access_token, "Graph API token for replies");
  create->add_option("--name", f->name, "Display name");
  create->callback([&ctx, f] {
    nlohmann::json body = {{"kind", f->kind},
                           {"external_id", f->external_id},
                           {"app_secret", f->app_secret},
                           {"verify_token", f->verify_token}};
    SetIf(body, "account_id", f->account_id);
    SetIf(body, "access_token", f->access_token);
    SetIf(body, "name", f->name);
    ctx.PrintJson(ctx.Client().Expect("POST", "/v1/channels", body, {201}));
  });

  auto* list = group->add_subcommand("list", "List the channels (never their secrets)");
  list->callback([&ctx] {
    auto answer = ctx.Client().Expect("GET", "/v1/channels", nullptr, {200});
    if (ctx.json_output) return ctx.PrintJson(answer);
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : answer.value("items", nlohmann::json::array())) {
      rows.push_back({Cell(c.value("id", nlohmann::json())), Cell(c.value("kind", nlohmann::json())),
                      Cell(c.value("external_id", nlohmann::json())), Cell(c.value("name", nlohmann::json())),
                      Cell(c.value("webhook_url", nlohmann::json()))});
    }
    PrintTable(std::cout, {"ID", "KIND", "EXTERNAL_ID", "NAME", "WEBHOOK_URL"}, rows);
  });
}

void AddQueues(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("queues", "Agent queues of the business");
  group->require_subcommand(1);
  struct Flags {
    std::string name, strategy = "round_robin";
    std::optional<int> sla, offer_timeout, overflow_wait;
    bool require_accept = false;
  };
  auto f = std::make_shared<Flags>();
  auto* create = group->add_subcommand("create", "Create a queue; prints its id");
  create->add_option("--name", f->name, "Queue name")->required();
  create->add_option("--strategy", f->strategy, "round_robin or least_busy");
  create->add_option("--sla", f->sla, "First-response SLA in seconds");
  create->add_flag("--require-accept", f->require_accept, "Offer conversations; agents accept or reject");
  create->add_option("--offer-timeout", f->offer_timeout, "Seconds an offer waits for an answer");
  create->add_option("--overflow-wait", f->overflow_wait, "Oldest wait (s) after which order-status goes to the bot");
  create->callback([&ctx, f] {
    nlohmann::json body = {{"name", f->name}, {"strategy", f->strategy}};
    SetIf(body, "first_response_sla_s", f->sla);
    SetIf(body, "offer_timeout_s", f->offer_timeout);
    SetIf(body, "overflow_wait_s", f->overflow_wait);
    if (f->require_accept) body["require_accept"] = true;
    ctx.PrintJson(ctx.Client().Expect("POST", "/v1/queues", body, {201}));
  });
}

void AddAgents(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("agents", "Agents of the business");
  group->require_subcommand(1);
  struct Flags {
    std::string name;
    int capacity = 5;
    std::vector<long long> queues;
    std::vector<std::string> skills;
  };
  auto f = std::make_shared<Flags>();
  auto* create = group->add_subcommand("create", "Create an agent; prints its token (shown once)");
  create->add_option("--name", f->name, "Agent name")->required();
  create->add_option("--capacity", f->capacity, "Conversations at once")->check(CLI::PositiveNumber);
  create->add_option("--queue", f->queues, "Queue id (repeat for several)")->required();
  create->add_option("--skill", f->skills, "Skill (repeat for several)");
  create->callback([&ctx, f] {
    nlohmann::json body = {{"name", f->name}, {"capacity", f->capacity}, {"queue_ids", f->queues}};
    if (!f->skills.empty()) body["skills"] = f->skills;
    ctx.PrintJson(ctx.Client().Expect("POST", "/v1/agents", body, {201}));
  });
}

void AddRouting(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("routing", "Routing rules of the business");
  group->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* apply = group->add_subcommand(
      "apply", "Replace the rules with FILE (JSON or YAML): {default_queue_id, rules: [{match, target}]}");
  apply->add_option("FILE", *file, "Rules file (.json, .yaml, .yml)")->required()->check(CLI::ExistingFile);
  apply->callback([&ctx, file] {
    auto body = ReadJsonOrYamlFile(*file);
    if (!body.is_object()) throw CommandError(*file + ": expected an object with default_queue_id and rules");
    ctx.PrintJson(ctx.Client().Expect("PUT", "/v1/routing", body, {200}));
  });
}

}  // namespace

void AddSetupCommands(CLI::App& app, Context& ctx) {
  AddBusinesses(app, ctx);
  AddChannels(app, ctx);
  AddQueues(app, ctx);
  AddAgents(app, ctx);
  AddRouting(app, ctx);
}

}  // namespace sb::sbctl
