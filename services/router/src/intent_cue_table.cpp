#include "intent_cue_table.hpp"

#include <array>

namespace sb::router {
namespace {

constexpr Cue kOrder = Cue::kOrderStatus;
constexpr Cue kStock = Cue::kInStock;
constexpr Cue kBuy = Cue::kPurchase;
constexpr Cue kSupport = Cue::kSupport;
constexpr Cue kHuman = Cue::kHuman;

// Words are folded: no accents, lower case, apostrophes split words
// ("where's" -> "where s", "n'ai" -> "n ai").
constexpr auto kPhrases = std::to_array<CuePhrase>({
    // order_status
    {kOrder, "", "tracking|trackingnummer|trackingcode"},
    {kOrder, "en",
     "where ... my|our|the order|orders|package|packages|parcel|parcels|delivery|shipment|stuff|purchase"},
    {kOrder, "en", "track* ... order|orders|package|parcel|shipment|delivery|it|this"},
    {kOrder, "en", "order|package|parcel|shipment|delivery|shipping status|update|updates|info|number"},
    {kOrder, "en", "status ... order|package|parcel|shipment|delivery"},
    {kOrder, "en", "has|have|did|was|is|when|will ... shipped|dispatched|arrive|arrived|arriving|delivered"},
    {kOrder, "en", "not|never|hasn|haven|didn|hasnt|havent|didnt|yet ... arrived|received|delivered|shipped"},
    {kOrder, "en", "order|orders|package|parcel|shipment ... late|delayed|lost|stuck"},
    {kOrder, "en", "check|checking ... my|the|our order|package|parcel|delivery"},
    {kOrder, "en", "update|updates|news ... order|package|parcel|delivery|shipment"},
    {kOrder, "en", "know|hear|info|information ... my|our order|package|parcel|delivery|shipment"},
    {kOrder, "en", "on its|the way"},
    {kOrder, "es", "donde ... mi|mis|el|los|nuestro|su pedido|pedidos|paquete|paquetes|orden|compra|envio"},
    {kOrder, "es", "cuando ... mi|mis|el|nuestro|su pedido|paquete|orden|compra|envio"},
    {kOrder, "es", "estado ... pedido|orden|envio|compra|paquete"},
    {kOrder, "es", "seguimiento|rastreo"},
    {kOrder, "", "rastrear"},
    {kOrder, "es", "numero de guia|seguimiento|pedido|orden"},
    {kOrder, "es", "pedido|paquete|orden|envio ... llegado|llega|llegara|llego|enviaron|salio|retrasado|perdido"},
    {kOrder, "", "pedido|paquete ... enviado|despachado"},
    {kOrder, "es", "no ... llegado|recibido|recibi"},
    {kOrder, "es", "saber|informacion|noticias ... mi|mis|el|del pedido|paquete|orden|compra|envio"},
    {kOrder, "es", "enviaron|mandaron|despacharon|llego|llega|llegara ... mi|el pedido|paquete|orden|compra"},
    {kOrder, "fr", "ou ... ma|mon|mes|notre|la|le commande|commandes|colis|livraison|paquet"},
    {kOrder, "fr", "quand ... ma|mon|mes|la|le commande|colis|livraison|paquet"},
    {kOrder, "fr", "suivi|suivre"},
    {kOrder, "fr", "statut|etat ... commande|colis|livraison"},
    {kOrder, "fr",
     "commande|colis|livraison ... expediee|expedie|envoyee|envoye|livree|livre|arrivee|arrive|retard|perdu|perdue"},
    {kOrder, "fr", "pas ... recu|recue|arrive|arrivee|livre|livree"},
    {kOrder, "fr", "numero de commande"},
    {kOrder, "de",
     "wo ... meine|mein|meinen|die|das|unsere|unser bestellung|bestellungen|paket|pakete|lieferung|sendung"},
    {kOrder, "de", "wo bleibt"},
    {kOrder, "de", "wann ... bestellung|paket|lieferung|sendung|ware"},
    {kOrder, "de", "status ... bestellung|paket|lieferung|sendung"},
    {kOrder, "de",
     "bestellstatus|lieferstatus|sendungsstatus|sendungsverfolgung|sendungsnummer|paketverfolgung|bestellnummer"},
    {kOrder, "de",
     "bestellung|paket|lieferung|sendung ... versandt|versendet|verschickt|angekommen|unterwegs|geliefert|zugestellt"},
    {kOrder, "de", "nicht ... angekommen|erhalten|bekommen|geliefert|zugestellt"},
    {kOrder, "pt", "cade ... meu|minha|meus|minhas|o|a pedido|encomenda|pacote|compra|entrega|produto"},
    {kOrder, "pt", "onde ... meu|minha|meus|minhas|o|a pedido|encomenda|pacote|compra|entrega|produto"},
    {kOrder, "pt", "quando ... meu|minha|o|a pedido|encomenda|pacote|compra|entrega"},
    {kOrder, "pt", "status|situacao ... pedido|encomenda|entrega|compra"},
    {kOrder, "pt", "rastreio|rastreamento"},
    {kOrder, "pt",
     "pedido|encomenda|pacote|compra|entrega ... chegou|chega|chegar|enviada|despachada|saiu|atrasado|atrasada"},
    {kOrder, "pt", "nao ... chegou|recebi|recebido|entregue"},
    {kOrder, "pt", "saber|informacao|noticias ... meu|minha|do|da pedido|encomenda|compra|entrega"},

    // in_stock
    {kStock, "", "stock|stocks|disponible|disponibles"},
    {kStock, "en", "in stock"},
    {kStock, "en", "out of stock"},
    {kStock, "en", "do|does|did you|u|ya|y have|got|carry|sell|stock"},
    {kStock, "en", "have you got"},
    {kStock, "en", "is|are there any|more"},
    {kStock, "en", "any ... left"},
    {kStock, "en", "sold out"},
    {kStock, "en", "available|availability|unavailable|restock*"},
    {kStock, "en", "in size|sizes|colour|color|colours|colors"},
    {kStock, "es", "hay ... stock|existencias|disponible"},
    {kStock, "es", "talla|tallas"},
    {kStock, "es", "tienen|tienes|tenes|tendran|venden|vendes"},
    {kStock, "es", "agotado|agotados|agotada|agotadas|existencias|quedan|disponibilidad"},
    {kStock, "fr", "rupture|disponibilite|indisponible|epuise|epuisee|epuises|reste"},
    {kStock, "fr", "avez vous ... taille|couleur|modele|encore|en"},
    {kStock, "fr", "vous avez ... taille|couleur|modele|encore|en"},
    {kStock, "fr", "taille|tailles"},
    {kStock, "de", "vorratig|vorraetig|lagernd|lieferbar|verfugbar|verfuegbar|verfugbarkeit|ausverkauft|vorhanden"},
    {kStock, "de", "auf lager"},
    {kStock, "de", "habt|haben ihr|sie ... noch|grosse|groesse|farbe|lager|das|den|die|diese|diesen"},
    {kStock, "de", "gibt es ... noch|grosse|groesse|farbe|auch"},
    {kStock, "pt", "estoque|disponivel|disponiveis|indisponivel|disponibilidade|esgotado|esgotada|esgotados"},
    {kStock, "pt", "tem|tens|temos ... tamanho|cor|numero|estoque|disponivel"},
    {kStock, "pt", "voces tem|vendem"},
    {kStock, "pt", "ainda tem"},

    // purchase
    {kBuy, "en", "buy|buying"},
    {kBuy, "en", "want|wanna|like|love|need|wish|d|ll to? buy|purchase|order|get"},
    {kBuy, "en", "can|could|may i|we ... order|buy|purchase"},
    {kBuy, "en", "how do|can|could|to i|we? order|buy|purchase"},
    {kBuy, "en", "how much"},
    {kBuy, "en", "price|prices|pricing|cost|costs|quote"},
    {kBuy, "en", "place|make|put ... order"},
    {kBuy, "en", "reorder*"},
    {kBuy, "en", "add ... to cart|basket|bag"},
    {kBuy, "en", "checkout"},
    {kBuy, "en", "ll take"},
    {kBuy, "", "comprar|compro|comprarlo|comprarla|comprarlos|comprarlas"},
    {kBuy, "es", "quiero|quisiera|queria|gustaria|deseo ... pedir|ordenar|encargar"},
    {kBuy, "es", "cuanto|cuanta|cuantos ... cuesta|cuestan|vale|valen|sale|salen|es|son|cobran"},
    {kBuy, "es", "precio|precios|cuesta|cuestan"},
    {kBuy, "es", "hacer ... pedido"},
    {kBuy, "fr", "acheter|achete|achat|commander|combien|prix|tarif|tarifs|coute|coutent"},
    {kBuy, "fr", "passer ... commande"},
    {kBuy, "de", "kaufen|kaufe|bestellen|bestelle|kostet|kosten|preis|preise|wieviel"},
    {kBuy, "de", "wie viel|teuer"},
    {kBuy, "pt", "quero|queria|gostaria|desejo ... pedir|encomendar|levar"},
    {kBuy, "pt", "quanto|quantos ... custa|custam|e|sai|fica|ta|esta"},
    {kBuy, "pt", "preco|precos|valor|custa|custam|encomendar"},
    {kBuy, "pt", "fazer ... pedido|encomenda"},

    // support
    {kSupport, "en", "refund*|broken|broke|damaged|defective|faulty|cracked|torn|ripped"},
    {kSupport, "en", "return|returns|returning|returned|complaint|complain*|exchange|cancel*|missing"},
    {kSupport, "en", "warranty|guarantee|issue|issues|scam|fraud|charged"},
    {kSupport, "en", "wrong ... item|size|order|product|color|colour|address|package"},
    {kSupport, "en", "order|item|product|size|package|parcel ... wrong|incorrect"},
    {kSupport, "en", "doesn|don|isn|won|didn|not|never|stopped ... work|works|working|worked|fit|fits"},
    {kSupport, "en", "money back"},
    {kSupport, "", "problem|probleme|problems|problema|problemas|garantia|garantie|reembolso|devolver|cancelar"},
    {kSupport, "es", "devolucion|devoluciones|devolverlo|devolverla|reembolsar|cancelacion|cambiar|cambio"},
    {kSupport, "es", "roto|rota|rotos|rotas|danado|danada|danados|defectuoso|defectuosa|estropeado|equivocado"},
    {kSupport, "es", "queja|quejas|reclamo|reclamos|reclamacion"},
    {kSupport, "es", "no funciona|sirve"},
    {kSupport, "fr", "remboursement|rembourser|rembourse|remboursez|retour|retourner|renvoyer|echange|echanger"},
    {kSupport, "fr", "casse|cassee|abime|abimee|endommage|endommagee|defectueux|defectueuse|erreur"},
    {kSupport, "fr", "plainte|reclamation|annuler|annulation|problemes"},
    {kSupport, "fr", "fonctionne|marche ... pas"},
    {kSupport, "de", "ruckerstattung|rueckerstattung|erstattung|erstatten|ruckzahlung|rueckzahlung"},
    {kSupport, "de", "rucksendung|ruecksendung|retoure|zurucksenden|zuruecksenden|zuruckschicken|zurueckschicken"},
    {kSupport, "de", "kaputt|defekt|defekte|beschadigt|beschaedigt|beschwerde|reklamation|reklamieren"},
    {kSupport, "de", "stornieren|storno|stornierung|umtausch|umtauschen|falsch|falsche|falschen"},
    {kSupport, "de", "geld ... zuruck|zurueck"},
    {kSupport, "de", "funktioniert ... nicht"},
    {kSupport, "pt", "devolucao|devolvi|defeito|defeituoso|defeituosa|quebrado|quebrada|quebrou|danificado|danificada"},
    {kSupport, "pt", "reclamacao|reclamar|cancelamento|troca|trocar|estorno|errado|errada"},
    {kSupport, "pt", "nao ... funciona"},

    // wants_human
    {kHuman, "",
     "^ a|an|un|una|um|uma|une|ein|einen? "
     "agent|human|operator|representative|person|humano|agente|atendente|asesor|conseiller|humain|mensch|menschen|"
     "mitarbeiter|operador $"},
    {kHuman, "en", "agent|human|person|operator|representative|rep|someone|somebody please|pls|plz"},
    {kHuman, "en",
     "talk|speak|chat|connect|transfer|put ... human|humans|person|agent|agents|someone|somebody|representative|rep|"
     "operator|staff|people|manager|supervisor"},
    {kHuman, "en", "representative|representatives"},
    {kHuman, "en", "real|live|actual person|human|agent|people|humans"},
    {kHuman, "en", "human agent|being"},
    {kHuman, "en", "need|want|get|see a|an|some? human|agent|representative|operator|person|someone|somebody"},
    {kHuman, "en", "customer service|care"},
    {kHuman, "en", "not|no a? bot|robot|machine"},
    {kHuman, "en", "agent|person|anyone|someone|somebody|anybody|human available"},
    {kHuman, "es",
     "hablar|comunicar|comunicarme|contactar|hablarle|platicar|charlar ... agente|humano|persona|asesor|asesora|"
     "operador|operadora|alguien|representante|ejecutivo|ejecutiva"},
    {kHuman, "es", "quiero|necesito ... agente|humano|asesor|operador"},
    {kHuman, "es", "persona real"},
    {kHuman, "", "agente|asesor|humano|operador|atendente|persona|pessoa por favor"},
    {kHuman, "fr",
     "parler|discuter|joindre|contacter ... conseiller|conseillere|humain|agent|personne|operateur|operatrice|quelqu|"
     "quelquun|representant|vrai|vraie"},
    {kHuman, "fr", "conseiller|conseillere|humain|agent|operateur svp|stp"},
    {kHuman, "fr", "vrai|vraie personne|humain"},
    {kHuman, "fr", "service client"},
    {kHuman, "de",
     "mit ... mensch|menschen|mitarbeiter|mitarbeiterin|mitarbeitern|berater|beraterin|agenten|kundenberater|"
     "jemandem|person|kundendienst|kundenservice ... sprechen|reden|verbinden|chatten|schreiben"},
    {kHuman, "de", "mitarbeiter|mensch|menschen|berater|agenten bitte"},
    {kHuman, "de", "echten|echter|echte|realen mensch|menschen|person"},
    {kHuman, "pt",
     "falar|conversar|atendimento ... atendente|humano|humana|pessoa|agente|alguem|operador|operadora|representante|"
     "consultor|consultora"},
    {kHuman, "pt", "quero|preciso ... atendente|humano|pessoa"},
    {kHuman, "pt", "atendente"},
    {kHuman, "pt", "pessoa ... real|verdade"},
});

}  // namespace

std::span<const CuePhrase> CuePhrases() { return kPhrases; }

}  // namespace sb::router
