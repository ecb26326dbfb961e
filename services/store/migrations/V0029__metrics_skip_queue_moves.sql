-- A conversation's metrics row depends on its status only through three
-- questions: is it with a bot, is it in a queue or with an agent (waiting,
-- offered or assigned, once routed), is it resolved. A move between
-- waiting, offered and assigned of a routed conversation changes none of
-- them, yet fired sb_conversation_metrics, which rewrote the row with the
-- values it had: once for every assignment, inside the router's turn, and
-- again at every offer, accept, reject and transfer to a queue. Such moves
-- no longer fire it; every other condition is as V0012 wrote it. The row
-- exists by then: the move from unrouted to routed (routed_at set) fires.
DROP TRIGGER conversations_metrics ON conversations;
CREATE TRIGGER conversations_metrics
  AFTER UPDATE OF status, intent, routed_at, first_response_at, resolved_at, outcome, amount_cents, currency,
                  sla_breached, referral, agent_replied, bot_replied
  ON conversations
  FOR EACH ROW
  WHEN ((OLD.status IS DISTINCT FROM NEW.status
         AND NOT (OLD.routed_at IS NOT NULL AND NEW.routed_at IS NOT NULL
                  AND OLD.status IN ('waiting', 'offered', 'assigned')
                  AND NEW.status IN ('waiting', 'offered', 'assigned')))
        OR OLD.intent IS DISTINCT FROM NEW.intent
        OR (OLD.routed_at IS NULL AND NEW.routed_at IS NOT NULL)
        OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
        OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at
        OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.amount_cents IS DISTINCT FROM NEW.amount_cents
        OR OLD.currency IS DISTINCT FROM NEW.currency
        OR OLD.sla_breached IS DISTINCT FROM NEW.sla_breached
        OR OLD.referral IS DISTINCT FROM NEW.referral
        OR OLD.agent_replied IS DISTINCT FROM NEW.agent_replied
        OR OLD.bot_replied IS DISTINCT FROM NEW.bot_replied)
  EXECUTE FUNCTION sb_conversation_metrics();
