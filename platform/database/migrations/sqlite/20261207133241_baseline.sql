-- Create "addresses" table
CREATE TABLE `addresses` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `street` text NOT NULL, `postal_code` text NOT NULL DEFAULT (''), `city_id` integer NOT NULL, CONSTRAINT `addresses_cities_addresses` FOREIGN KEY (`city_id`) REFERENCES `cities` (`id`) ON DELETE NO ACTION);
-- Create index "address_city_id_id" to table: "addresses"
CREATE INDEX `address_city_id_id` ON `addresses` (`city_id`, `id`);
-- Create index "address_postal_code" to table: "addresses"
CREATE INDEX `address_postal_code` ON `addresses` (`postal_code`);
-- Create "cities" table
CREATE TABLE `cities` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `latitude` real NOT NULL, `longitude` real NOT NULL, `population` integer NOT NULL DEFAULT (0), `country_id` integer NOT NULL, CONSTRAINT `cities_countries_cities` FOREIGN KEY (`country_id`) REFERENCES `countries` (`id`) ON DELETE NO ACTION);
-- Set sequence for "cities" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("cities", 4294967296);
-- Create index "city_country_id" to table: "cities"
CREATE INDEX `city_country_id` ON `cities` (`country_id`);
-- Create index "city_name" to table: "cities"
CREATE INDEX `city_name` ON `cities` (`name`);
-- Create index "city_population" to table: "cities"
CREATE INDEX `city_population` ON `cities` (`population`);
-- Create "countries" table
CREATE TABLE `countries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `code` text NOT NULL, `name` text NOT NULL, `continent` text NOT NULL);
-- Set sequence for "countries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("countries", 8589934592);
-- Create index "countries_code_key" to table: "countries"
CREATE UNIQUE INDEX `countries_code_key` ON `countries` (`code`);
-- Create index "country_name" to table: "countries"
CREATE INDEX `country_name` ON `countries` (`name`);
-- Create index "country_continent" to table: "countries"
CREATE INDEX `country_continent` ON `countries` (`continent`);
-- Create "orders" table
CREATE TABLE `orders` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `quantity` integer NOT NULL DEFAULT (1), `amount` real NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `product_id` integer NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `orders_products_orders` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE NO ACTION, CONSTRAINT `orders_users_orders` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Set sequence for "orders" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("orders", 12884901888);
-- Create index "order_user_id_created_at" to table: "orders"
CREATE INDEX `order_user_id_created_at` ON `orders` (`user_id`, `created_at`);
-- Create index "order_product_id" to table: "orders"
CREATE INDEX `order_product_id` ON `orders` (`product_id`);
-- Create index "order_created_at" to table: "orders"
CREATE INDEX `order_created_at` ON `orders` (`created_at`);
-- Create "products" table
CREATE TABLE `products` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `sku` text NOT NULL, `name` text NOT NULL, `category` text NOT NULL, `price` real NOT NULL);
-- Set sequence for "products" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("products", 17179869184);
-- Create index "products_sku_key" to table: "products"
CREATE UNIQUE INDEX `products_sku_key` ON `products` (`sku`);
-- Create index "product_name" to table: "products"
CREATE INDEX `product_name` ON `products` (`name`);
-- Create index "product_category" to table: "products"
CREATE INDEX `product_category` ON `products` (`category`);
-- Create index "product_price" to table: "products"
CREATE INDEX `product_price` ON `products` (`price`);
-- Create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `email` text NOT NULL, `created_at` datetime NOT NULL, `last_active_at` datetime NULL, `last_active_order` datetime NOT NULL DEFAULT ('1970-01-01 00:00:00+00'), `total_spent` real NOT NULL DEFAULT (0), `address_id` integer NULL, CONSTRAINT `users_addresses_users` FOREIGN KEY (`address_id`) REFERENCES `addresses` (`id`) ON DELETE SET NULL);
-- Set sequence for "users" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 21474836480);
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create index "user_address_id" to table: "users"
CREATE INDEX `user_address_id` ON `users` (`address_id`);
-- Create index "user_created_at" to table: "users"
CREATE INDEX `user_created_at` ON `users` (`created_at`);
-- Create index "user_last_active_at" to table: "users"
CREATE INDEX `user_last_active_at` ON `users` (`last_active_at`);
-- Create index "user_last_active_order" to table: "users"
CREATE INDEX `user_last_active_order` ON `users` (`last_active_order`);
-- Create index "user_total_spent" to table: "users"
CREATE INDEX `user_total_spent` ON `users` (`total_spent`);
-- Create "events" table
CREATE TABLE `events` (`id` text NOT NULL, `user_id` integer NOT NULL, `type` text NOT NULL, `ts` integer NOT NULL, `day` text NOT NULL, `week` text NOT NULL, `month` text NOT NULL, `cell` text NULL, `revenue_cents` integer NOT NULL DEFAULT 0, `category` text NOT NULL DEFAULT '', `country` text NOT NULL DEFAULT '', `city` text NOT NULL DEFAULT '', `lon` real NULL, `lat` real NULL, `metadata` text NULL, PRIMARY KEY (`id`));
-- Create index "events_user_ts" to table: "events"
CREATE INDEX `events_user_ts` ON `events` (`user_id`, `ts` DESC, `id` DESC);
-- Create index "events_purchases" to table: "events"
CREATE INDEX `events_purchases` ON `events` (`ts`, `user_id`, `revenue_cents`, `category`, `country`, `day`, `week`, `month`) WHERE type = 'purchase';
-- Create index "events_ts" to table: "events"
CREATE INDEX `events_ts` ON `events` (`ts`);
-- Create index "events_cell" to table: "events"
CREATE INDEX `events_cell` ON `events` (`cell`) WHERE cell IS NOT NULL;
-- Create "event_counts_daily" table
CREATE TABLE `event_counts_daily` (`day` text NOT NULL, `type` text NOT NULL, `country` text NOT NULL, `count` integer NOT NULL, PRIMARY KEY (`day`, `type`, `country`)) WITHOUT ROWID;
-- Create "user_profiles" table
CREATE TABLE `user_profiles` (`username` text NOT NULL, `email` text NOT NULL DEFAULT '', `interests` text NOT NULL DEFAULT '[]', `expertise_level` text NOT NULL DEFAULT '', `metrics` text NOT NULL DEFAULT '{}', `subscriptions` text NOT NULL DEFAULT '[]', `updated_at` integer NOT NULL, PRIMARY KEY (`username`));
-- Create "profile_interests" table
CREATE TABLE `profile_interests` (`interest` text NOT NULL, `username` text NOT NULL, PRIMARY KEY (`interest`, `username`), CONSTRAINT `0` FOREIGN KEY (`username`) REFERENCES `user_profiles` (`username`) ON UPDATE NO ACTION ON DELETE CASCADE) WITHOUT ROWID;
-- Create "outbox" table
CREATE TABLE `outbox` (`id` text NULL, `exchange` text NOT NULL, `type` text NOT NULL, `body` text NOT NULL, `occurred_at` bigint NOT NULL, `correlation_id` text NOT NULL DEFAULT '', `schema_version` integer NOT NULL DEFAULT 1, `sent_at` bigint NULL, `claimed_until` bigint NULL, `headers` text NOT NULL DEFAULT '', PRIMARY KEY (`id`));
-- Create index "outbox_pending" to table: "outbox"
CREATE INDEX `outbox_pending` ON `outbox` (`occurred_at`, `id`) WHERE sent_at IS NULL;
-- Create index "outbox_sent" to table: "outbox"
CREATE INDEX `outbox_sent` ON `outbox` (`sent_at`) WHERE sent_at IS NOT NULL;
-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` text NULL, `name` text NOT NULL, `role` text NOT NULL, `secret_sha256` text NOT NULL, `created_at` bigint NOT NULL, `revoked_at` bigint NULL, PRIMARY KEY (`id`));
-- Create "inbox" table
CREATE TABLE `inbox` (`consumer` text NOT NULL, `message_id` text NOT NULL, `handled_at` bigint NOT NULL, PRIMARY KEY (`consumer`, `message_id`));
-- Create index "inbox_handled" to table: "inbox"
CREATE INDEX `inbox_handled` ON `inbox` (`handled_at`);
-- Create "notifications" table
CREATE TABLE `notifications` (`id` text NULL, `channel` text NOT NULL, `template` text NOT NULL, `recipient` text NOT NULL, `subject` text NOT NULL, `body` text NOT NULL, `user_id` bigint NULL, `correlation_id` text NOT NULL DEFAULT '', `created_at` bigint NOT NULL, PRIMARY KEY (`id`));
-- Create index "notifications_created" to table: "notifications"
CREATE INDEX `notifications_created` ON `notifications` (`created_at`, `id`);
-- Create index "notifications_recipient" to table: "notifications"
CREATE INDEX `notifications_recipient` ON `notifications` (`recipient`, `created_at`);
