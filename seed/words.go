package seed

// The word lists below are constant data. They are returned by functions,
// not kept in package variables, so that nothing in the package is mutable
// and a caller can never change what the next run generates.

// firstNames are given names from many languages, ASCII only so that they
// are valid in usernames and email local parts as they are.
func firstNames() []string {
	return []string{
		"adam", "aisha", "akira", "alejandro", "alex", "amara", "amir", "ana",
		"andrei", "anna", "arjun", "astrid", "ben", "bruno", "carla", "carlos",
		"chen", "chloe", "daniel", "diego", "elena", "emeka", "emily", "emma",
		"fatima", "felix", "freya", "gabriel", "grace", "hana", "hannah", "hugo",
		"ibrahim", "ines", "isabel", "ivan", "jack", "james", "jana", "javier",
		"jin", "john", "jonas", "julia", "kai", "kenji", "kofi", "laila",
		"lars", "laura", "leon", "lucas", "lucia", "luis", "maria", "marta",
		"mateo", "maya", "mei", "mia", "mohamed", "nadia", "nina", "noah",
		"olga", "oliver", "olivia", "omar", "oskar", "pablo", "priya", "rafael",
		"rahul", "rosa", "sakura", "samir", "sara", "sofia", "sven", "taro",
		"thomas", "tomasz", "valentina", "wei", "yara", "yusuf", "zara", "zofia",
	}
}

// lastNames are family names from many languages, ASCII only.
func lastNames() []string {
	return []string{
		"adeyemi", "ahmed", "alvarez", "andersen", "bakker", "becker", "brown", "castro",
		"chen", "cohen", "costa", "dubois", "dupont", "fernandes", "fischer", "garcia",
		"gonzalez", "gupta", "hansen", "hoffmann", "hossain", "ivanova", "jansen", "jensen",
		"johnson", "kaya", "kim", "kowalski", "kumar", "lee", "li", "lopez",
		"martin", "martinez", "meyer", "mueller", "murphy", "nakamura", "nguyen", "nielsen",
		"novak", "nowak", "okafor", "olsen", "patel", "pereira", "petrov", "ramos",
		"rossi", "russo", "santos", "sato", "schmidt", "schneider", "shevchenko", "silva",
		"singh", "smith", "suzuki", "tanaka", "taylor", "torres", "tran", "wagner",
		"walker", "wang", "weber", "williams", "wilson", "wong", "yamamoto", "yilmaz",
		"zhang", "zhou",
	}
}

// streetNames and streetKinds make addresses such as "12 Oak Street".
func streetNames() []string {
	return []string{
		"Acacia", "Ash", "Bridge", "Castle", "Cedar", "Chapel", "Church", "Elm",
		"Garden", "Green", "Harbour", "High", "Hill", "King", "Lake", "Linden",
		"Maple", "Market", "Meadow", "Mill", "North", "Oak", "Orchard", "Park",
		"Pine", "Queen", "River", "School", "South", "Spring", "Station", "Sunset",
		"Victoria", "Willow", "Windmill", "York",
	}
}

func streetKinds() []string {
	return []string{"Street", "Street", "Road", "Avenue", "Lane", "Way", "Square", "Boulevard"}
}

// emailDomains are the domains reserved for documentation (RFC 2606), so
// that demo addresses can never reach a real mailbox.
func emailDomains() []string {
	return []string{"example.com", "example.org", "example.net"}
}

// category describes one product category of the demo shop.
type category struct {
	Name   string  // stored in products.category
	Code   string  // SKU prefix
	Count  int     // number of products
	Median float64 // median price
	Sigma  float64 // log-normal spread of prices
	Share  float64 // share of all purchases, before per-user tastes
	Adj    []string
	Noun   []string
}

// categories is the catalogue: 200 products in 10 categories. Count must not
// exceed len(Adj)*len(Noun), which the tests check.
func categories() []category {
	return []category{
		{"electronics", "ELE", 28, 120, 0.9, 0.16,
			[]string{"Wireless", "Smart", "Portable", "Compact", "Ultra", "Pro", "Mini"},
			[]string{"Headphones", "Speaker", "Charger", "Keyboard", "Mouse", "Monitor", "Camera", "Tablet", "Router", "Smartwatch"}},
		{"books", "BOO", 30, 18, 0.45, 0.14,
			[]string{"Hidden", "Silent", "Last", "Little", "Lost", "Midnight", "Northern", "Secret", "Winter"},
			[]string{"Garden", "Library", "River", "Kingdom", "Atlas", "Voyage", "Letters", "Orchard", "Cookbook", "Guide"}},
		{"home", "HOM", 22, 45, 0.7, 0.11,
			[]string{"Ceramic", "Linen", "Oak", "Velvet", "Woven", "Copper", "Glass"},
			[]string{"Lamp", "Vase", "Cushion", "Blanket", "Mirror", "Clock", "Rug", "Shelf", "Mug Set"}},
		{"garden", "GAR", 16, 35, 0.8, 0.06,
			[]string{"Solar", "Folding", "Galvanised", "Heavy-Duty", "Ergonomic"},
			[]string{"Planter", "Hose", "Trowel", "Pruner", "Bird Feeder", "Lantern", "Watering Can"}},
		{"toys", "TOY", 18, 25, 0.6, 0.08,
			[]string{"Wooden", "Plush", "Magnetic", "Remote-Control", "Glow"},
			[]string{"Train Set", "Puzzle", "Robot", "Bear", "Blocks", "Kite", "Dinosaur"}},
		{"sports", "SPO", 20, 40, 0.8, 0.09,
			[]string{"Lightweight", "Pro", "Adjustable", "Waterproof", "Trail"},
			[]string{"Yoga Mat", "Dumbbells", "Running Shoes", "Backpack", "Water Bottle", "Tennis Racket", "Bike Helmet"}},
		{"beauty", "BEA", 18, 22, 0.6, 0.08,
			[]string{"Organic", "Hydrating", "Gentle", "Radiant", "Herbal"},
			[]string{"Face Cream", "Serum", "Shampoo", "Lip Balm", "Body Lotion", "Cleanser", "Hand Soap"}},
		{"grocery", "GRO", 20, 8, 0.5, 0.12,
			[]string{"Organic", "Roasted", "Wildflower", "Smoked", "Artisan"},
			[]string{"Coffee Beans", "Green Tea", "Honey", "Olive Oil", "Dark Chocolate", "Pasta", "Granola"}},
		{"fashion", "FAS", 20, 55, 0.7, 0.11,
			[]string{"Classic", "Slim", "Cotton", "Wool", "Denim", "Vintage"},
			[]string{"Jacket", "Sneakers", "Scarf", "T-Shirt", "Dress", "Jeans", "Hoodie"}},
		{"music", "MUS", 8, 60, 1.1, 0.05,
			[]string{"Acoustic", "Vinyl", "Studio", "Electric"},
			[]string{"Guitar", "Record", "Ukulele", "Keyboard", "Microphone"}},
	}
}
