-- contacts_external served no query: every lookup of a contact by its
-- external id also names the business and channel (the UNIQUE index).
DROP INDEX contacts_external;
