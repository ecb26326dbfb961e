#include "sb/router/bot_replies.hpp"

#include <algorithm>
#include <initializer_list>
#include <utility>

namespace sb::router {
namespace {

// What the bots say, one set per language. `{name}` marks a value; values
// are inserted once and never re-read as templates.
struct ReplyTemplates {
  std::string_view language;
  std::string_view order_status;  // {ref} is " A1001" (with its space), or empty
  std::string_view carrier;
  std::string_view eta;
  std::string_view tracking;
  std::string_view order_not_found;
  std::string_view in_stock_one;
  std::string_view in_stock_many;
  std::string_view out_of_stock;
  std::string_view handover;
};

constexpr ReplyTemplates kTemplates[] = {
    {"en", "Here is the latest on your order{ref}: {status}.", "Carrier: {carrier}.", "Estimated delivery: {eta}.",
     "Track it here: {url}", "Sorry, I could not find an order with those details.",
     "Good news: {name} is in stock (1 left), price {price}.",
     "Good news: {name} is in stock ({count} left), price {price}.", "Sorry, {name} is out of stock right now.",
     "Let me connect you with a colleague who can help. They will reply here shortly."},
    {"es", "Esto es lo último de tu pedido{ref}: {status}.", "Transportista: {carrier}.", "Entrega estimada: {eta}.",
     "Sigue tu envío aquí: {url}", "Lo siento, no encontré ningún pedido con esos datos.",
     "¡Buenas noticias! {name} está en stock (queda 1), precio {price}.",
     "¡Buenas noticias! {name} está en stock (quedan {count}), precio {price}.",
     "Lo siento, {name} está agotado en este momento.",
     "Te comunico con un compañero que podrá ayudarte. Te responderá aquí en breve."},
    {"fr", "Voici où en est votre commande{ref} : {status}.", "Transporteur : {carrier}.", "Livraison prévue : {eta}.",
     "Suivez votre colis ici : {url}", "Désolé, je n'ai trouvé aucune commande correspondant à ces informations.",
     "Bonne nouvelle : {name} est en stock (1 restant), prix {price}.",
     "Bonne nouvelle : {name} est en stock ({count} restants), prix {price}.",
     "Désolé, {name} est en rupture de stock pour le moment.",
     "Je vous mets en relation avec un collègue qui pourra vous aider. Il vous répondra ici très bientôt."},
    {"de", "Hier ist der aktuelle Stand Ihrer Bestellung{ref}: {status}.", "Versand mit: {carrier}.",
     "Voraussichtliche Lieferung: {eta}.", "Sendungsverfolgung: {url}",
     "Leider konnte ich keine Bestellung mit diesen Angaben finden.",
     "Gute Nachricht: {name} ist auf Lager (noch 1 Stück), Preis {price}.",
     "Gute Nachricht: {name} ist auf Lager (noch {count} Stück), Preis {price}.",
     "Leider ist {name} derzeit nicht auf Lager.",
     "Ich verbinde Sie mit einem Kollegen, der Ihnen weiterhelfen kann. Sie erhalten hier in Kürze eine Antwort."},
    {"pt", "Aqui está a atualização do seu pedido{ref}: {status}.", "Transportadora: {carrier}.",
     "Previsão de entrega: {eta}.", "Acompanhe a entrega aqui: {url}",
     "Desculpe, não encontrei nenhum pedido com esses dados.",
     "Boa notícia: {name} está em estoque (resta 1), preço {price}.",
     "Boa notícia: {name} está em estoque (restam {count}), preço {price}.",
     "Desculpe, {name} está esgotado no momento.",
     "Vou transferir você para um colega que pode ajudar. Ele vai responder aqui em breve."},
};

// "es-MX", "pt_BR", "FR" -> the templates of the base language; English
// for anything else.
const ReplyTemplates& For(std::string_view language) {
  std::string base;
  for (char c : language.substr(0, language.find_first_of("-_"))) {
    base += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  for (const auto& t : kTemplates) {
    if (t.language == base) return t;
  }
  return kTemplates[0];
}

using Values = std::initializer_list<std::pair<std::string_view, std::string_view>>;

std::string Fill(std::string_view tmpl, Values values) {
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    std::size_t open = tmpl.find('{', i);
    std::size_t close = open == std::string_view::npos ? open : tmpl.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(i, open - i));
    std::string_view key = tmpl.substr(open + 1, close - open - 1);
    auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == key; });
    out.append(it != values.end() ? it->second : tmpl.substr(open, close - open + 1));
    i = close + 1;
  }
  out.append(tmpl.substr(std::min(i, tmpl.size())));
  return out;
}

bool Present(const std::optional<std::string>& s) { return s && !s->empty(); }

}  // namespace

std::string OrderStatusReply(const OrderInfo& order, std::string_view language) {
  const auto& t = For(language);
  std::string status = order.status;
  std::replace(status.begin(), status.end(), '_', ' ');
  std::string ref = order.order_ref.empty() ? "" : " " + order.order_ref;
  std::string reply = Fill(t.order_status, {{"ref", ref}, {"status", status}});
  if (Present(order.carrier)) reply += "\n" + Fill(t.carrier, {{"carrier", *order.carrier}});
  if (Present(order.eta)) reply += "\n" + Fill(t.eta, {{"eta", *order.eta}});
  if (Present(order.tracking_url)) reply += "\n" + Fill(t.tracking, {{"url", *order.tracking_url}});
  return reply;
}

std::string OrderNotFoundReply(std::string_view language) { return std::string(For(language).order_not_found); }

std::string StockReply(const ProductInfo& product, std::string_view language) {
  const auto& t = For(language);
  if (product.stock <= 0) return Fill(t.out_of_stock, {{"name", product.name}});
  std::string count = std::to_string(product.stock);
  std::string price = FormatMoney(product.price_cents, product.currency);
  return Fill(product.stock == 1 ? t.in_stock_one : t.in_stock_many,
              {{"name", product.name}, {"count", count}, {"price", price}});
}

std::string HandoverReply(std::string_view language) { return std::string(For(language).handover); }

}  // namespace sb::router
