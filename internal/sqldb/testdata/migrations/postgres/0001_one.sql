-- first
CREATE TABLE t_one (id INTEGER PRIMARY KEY, v VARCHAR(10));
INSERT INTO t_one (id, v) VALUES (1, 'a;b');
