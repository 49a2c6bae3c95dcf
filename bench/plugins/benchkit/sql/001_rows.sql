-- Rows for the park.db endpoints: a one-row read and a one-row write.
CREATE TABLE benchkit_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
INSERT INTO benchkit_rows (body) VALUES ('Hello, World!');
