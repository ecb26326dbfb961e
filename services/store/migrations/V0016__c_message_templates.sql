-- WhatsApp message templates a business may send outside the 24-hour
-- customer-service window (approved by Meta under the same name and
-- language; Switchboard checks what it can: name, language, body parameters).
CREATE TABLE message_templates (
  business_id          bigint NOT NULL REFERENCES businesses,
  name                 text NOT NULL,
  language             text NOT NULL,
  category             text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication')),
  body_parameter_count int NOT NULL CHECK (body_parameter_count BETWEEN 0 AND 100),
  body_examples        jsonb NOT NULL DEFAULT '[]',
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, name, language)
);
