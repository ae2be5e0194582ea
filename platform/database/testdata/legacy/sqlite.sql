-- A database as Meridian's start-up made it before versioned migrations
-- (commit b70e6e5: ent's auto-migration with WithDropIndex, then the owners'
-- registry) on an empty SQLite file, dumped with sqlite3 .dump (its
-- PRAGMA foreign_keys=OFF line removed). Written by dump.sh.
BEGIN TRANSACTION;
CREATE TABLE `addresses` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `street` text NOT NULL, `postal_code` text NOT NULL DEFAULT (''), `city_id` integer NOT NULL, CONSTRAINT `addresses_cities_addresses` FOREIGN KEY (`city_id`) REFERENCES `cities` (`id`) ON DELETE NO ACTION);
CREATE TABLE `cities` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `latitude` real NOT NULL, `longitude` real NOT NULL, `population` integer NOT NULL DEFAULT (0), `country_id` integer NOT NULL, CONSTRAINT `cities_countries_cities` FOREIGN KEY (`country_id`) REFERENCES `countries` (`id`) ON DELETE NO ACTION);
CREATE TABLE `countries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `code` text NOT NULL, `name` text NOT NULL, `continent` text NOT NULL);
CREATE TABLE `orders` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `quantity` integer NOT NULL DEFAULT (1), `amount` real NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `product_id` integer NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `orders_products_orders` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE NO ACTION, CONSTRAINT `orders_users_orders` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
CREATE TABLE `products` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `sku` text NOT NULL, `name` text NOT NULL, `category` text NOT NULL, `price` real NOT NULL);
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `email` text NOT NULL, `created_at` datetime NOT NULL, `last_active_at` datetime NULL, `last_active_order` datetime NOT NULL DEFAULT ('1970-01-01 00:00:00+00'), `total_spent` real NOT NULL DEFAULT (0), `address_id` integer NULL, CONSTRAINT `users_addresses_users` FOREIGN KEY (`address_id`) REFERENCES `addresses` (`id`) ON DELETE SET NULL);
CREATE TABLE analytics_migrations (
	version INTEGER NOT NULL PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at INTEGER NOT NULL
);
INSERT INTO analytics_migrations VALUES(1,'events, daily rollups, profiles',1796650434728);
CREATE TABLE events (
	id TEXT NOT NULL PRIMARY KEY,
	user_id INTEGER NOT NULL,
	type TEXT NOT NULL,
	ts INTEGER NOT NULL,
	day TEXT NOT NULL,
	week TEXT NOT NULL,
	month TEXT NOT NULL,
	cell TEXT,
	revenue_cents INTEGER NOT NULL DEFAULT 0,
	category TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	lon REAL,
	lat REAL,
	metadata TEXT
);
CREATE TABLE event_counts_daily (
	day TEXT NOT NULL,
	type TEXT NOT NULL,
	country TEXT NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (day, type, country)
) WITHOUT ROWID;
CREATE TABLE user_profiles (
	username TEXT NOT NULL PRIMARY KEY,
	email TEXT NOT NULL DEFAULT '',
	interests TEXT NOT NULL DEFAULT '[]',
	expertise_level TEXT NOT NULL DEFAULT '',
	metrics TEXT NOT NULL DEFAULT '{}',
	subscriptions TEXT NOT NULL DEFAULT '[]',
	updated_at INTEGER NOT NULL
);
CREATE TABLE profile_interests (
	interest TEXT NOT NULL,
	username TEXT NOT NULL REFERENCES user_profiles (username) ON DELETE CASCADE,
	PRIMARY KEY (interest, username)
) WITHOUT ROWID;
CREATE TABLE outbox (
			id TEXT PRIMARY KEY,
			exchange TEXT NOT NULL,
			type TEXT NOT NULL,
			body TEXT NOT NULL,
			occurred_at BIGINT NOT NULL,
			correlation_id TEXT NOT NULL DEFAULT '',
			schema_version INTEGER NOT NULL DEFAULT 1,
			sent_at BIGINT,
			claimed_until BIGINT,
			headers TEXT NOT NULL DEFAULT ''
		);
CREATE TABLE api_keys (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		role TEXT NOT NULL,
		secret_sha256 TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		revoked_at BIGINT
	);
CREATE TABLE inbox (
			consumer TEXT NOT NULL,
			message_id TEXT NOT NULL,
			handled_at BIGINT NOT NULL,
			PRIMARY KEY (consumer, message_id)
		);
CREATE TABLE notifications (
			id TEXT PRIMARY KEY,
			channel TEXT NOT NULL,
			template TEXT NOT NULL,
			recipient TEXT NOT NULL,
			subject TEXT NOT NULL,
			body TEXT NOT NULL,
			user_id BIGINT,
			correlation_id TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL
		);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('cities',4294967296);
INSERT INTO sqlite_sequence VALUES('countries',8589934592);
INSERT INTO sqlite_sequence VALUES('orders',12884901888);
INSERT INTO sqlite_sequence VALUES('products',17179869184);
INSERT INTO sqlite_sequence VALUES('users',21474836480);
CREATE INDEX `address_city_id_id` ON `addresses` (`city_id`, `id`);
CREATE INDEX `address_postal_code` ON `addresses` (`postal_code`);
CREATE INDEX `city_country_id` ON `cities` (`country_id`);
CREATE INDEX `city_name` ON `cities` (`name`);
CREATE INDEX `city_population` ON `cities` (`population`);
CREATE UNIQUE INDEX `countries_code_key` ON `countries` (`code`);
CREATE INDEX `country_name` ON `countries` (`name`);
CREATE INDEX `country_continent` ON `countries` (`continent`);
CREATE INDEX `order_user_id_created_at` ON `orders` (`user_id`, `created_at`);
CREATE INDEX `order_product_id` ON `orders` (`product_id`);
CREATE INDEX `order_created_at` ON `orders` (`created_at`);
CREATE UNIQUE INDEX `products_sku_key` ON `products` (`sku`);
CREATE INDEX `product_name` ON `products` (`name`);
CREATE INDEX `product_category` ON `products` (`category`);
CREATE INDEX `product_price` ON `products` (`price`);
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
CREATE INDEX `user_address_id` ON `users` (`address_id`);
CREATE INDEX `user_created_at` ON `users` (`created_at`);
CREATE INDEX `user_last_active_at` ON `users` (`last_active_at`);
CREATE INDEX `user_last_active_order` ON `users` (`last_active_order`);
CREATE INDEX `user_total_spent` ON `users` (`total_spent`);
CREATE INDEX events_user_ts ON events (user_id, ts DESC, id DESC);
CREATE INDEX events_purchases ON events (ts, user_id, revenue_cents, category, country, day, week, month)
	WHERE type = 'purchase';
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_cell ON events (cell) WHERE cell IS NOT NULL;
CREATE INDEX outbox_pending ON outbox (occurred_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX inbox_handled ON inbox (handled_at);
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at);
COMMIT;
