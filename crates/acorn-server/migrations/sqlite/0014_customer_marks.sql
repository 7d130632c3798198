-- Deep offsets without walking the index (issue #15: an offset of 500,000 walked 500,000 index
-- entries). Each merchant's customer ids are cut into ranges: a row (merchant_id, upper, n) holds
-- how many live customers have an id in (the next lower upper, upper]; the newest range is open,
-- `upper` = '~' (after every id). Kept in the transaction of every create and erasure (with the
-- list counters); a range is closed at its newest id once it holds 1,024. SQLite only: its single
-- writer closes ranges without races (PostgreSQL walks its index).
CREATE TABLE customer_marks (
    merchant_id TEXT NOT NULL,
    upper TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, upper)
) WITHOUT ROWID;

INSERT INTO customer_marks (merchant_id, upper, n)
SELECT merchant_id, CASE WHEN g = (total - 1) / 1024 THEN '~' ELSE MAX(id) END, COUNT(*)
FROM (
    SELECT merchant_id, id,
        (ROW_NUMBER() OVER (PARTITION BY merchant_id ORDER BY id) - 1) / 1024 AS g,
        COUNT(*) OVER (PARTITION BY merchant_id) AS total
    FROM customers WHERE deleted_at IS NULL
) AS live
GROUP BY merchant_id, g;
