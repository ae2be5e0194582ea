-- Computed columns that give PostGraphile v4 the edges Meridian has and the
-- tables alone do not (make bench-peers, issue 14). Meridian's own schema is
-- left as it is: no table, column or index is added; these are functions and
-- one composite type in public, which Meridian never reads.
--
--   City.users, Country.users   the users living in the city/country (two
--                               hops through addresses), ordered by user id
--                               as Meridian orders them
--   Country.stats               { userCount avgTotalSpent }: the aggregates of
--                               Meridian's Country.stats (stats/aggregates.go:
--                               users through cities and addresses, average of
--                               users.total_spent, 0 when there are none)
--
-- The indexes both sides use are Meridian's: city_country_id, address_city_id,
-- user_address_id, users_username_key, user_total_spent, the primary keys.

CREATE OR REPLACE FUNCTION cities_users(c cities) RETURNS SETOF users AS $$
	SELECT u.* FROM users u JOIN addresses a ON a.id = u.address_id
	WHERE a.city_id = c.id ORDER BY u.id
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION countries_users(c countries) RETURNS SETOF users AS $$
	SELECT u.* FROM users u
	JOIN addresses a ON a.id = u.address_id
	JOIN cities ci ON ci.id = a.city_id
	WHERE ci.country_id = c.id ORDER BY u.id
$$ LANGUAGE sql STABLE;

DO $$ BEGIN
	CREATE TYPE peer_country_stats AS (user_count integer, avg_total_spent double precision);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- One function for both aggregates, so that PostGraphile scans a country's
-- users once (two computed columns would scan them twice).
CREATE OR REPLACE FUNCTION countries_stats(c countries) RETURNS peer_country_stats AS $$
	SELECT COUNT(*)::integer, COALESCE(AVG(u.total_spent), 0)
	FROM cities ci
	JOIN addresses a ON a.city_id = ci.id
	JOIN users u ON u.address_id = a.id
	WHERE ci.country_id = c.id
$$ LANGUAGE sql STABLE;

-- ent makes users.username unique with a unique index, which PostGraphile v4
-- does not read as a key (it reads constraints): the index becomes the
-- constraint, the same index under the same name, so that PostGraphile has
-- Query.userByUsername as Meridian has Query.user(username). No index is
-- added; Meridian plans on the same index as before.
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'users_username_key') THEN
		ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE USING INDEX users_username_key;
	END IF;
END $$;
