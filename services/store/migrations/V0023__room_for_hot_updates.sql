-- Every customer message updates its contact (last seen) and its
-- conversation (last message, messaging window), and the router, the
-- assignment and the resolve update the conversation again. An update that
-- finds room on the row's page and changes no indexed column is a HOT
-- update: no index entry is written. With full pages (the default
-- fillfactor of 100) most of these updates had to move the row to another
-- page and add an entry to every index of the table. In the ingest
-- benchmark 36 % of the conversations' updates and 62 % of the contacts'
-- were HOT; with this room, 69 % and 82 % (the rest of the conversations'
-- are the router's, which change the indexed status). Applies to pages
-- written from now on.
ALTER TABLE conversations SET (fillfactor = 70);
ALTER TABLE contacts SET (fillfactor = 80);
