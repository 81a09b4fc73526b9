package generate

import (
	"fmt"
	"math"
	"math/rand/v2"

	"weir/events"
)

// The simulated platform: a fixed set of services on fixed hosts, a catalogue
// and a user population drawn from the traffic seed.

const (
	svcFrontend  = "frontend"
	svcCart      = "cart"
	svcInventory = "inventory"
	svcOrders    = "orders"
	svcPayments  = "payments"
)

// services in a fixed order (it decides host and metric order).
var services = []struct {
	name  string
	hosts int
	cores float64
	memGB float64
}{
	{svcFrontend, 3, 4, 8},
	{svcCart, 2, 2, 4},
	{svcInventory, 2, 2, 4},
	{svcOrders, 2, 2, 4},
	{svcPayments, 2, 2, 4},
}

type host struct {
	name    string
	service string
	node    string
	cores   float64
	memGB   float64
	// load accumulated over the current metric interval
	requests int64
	bytes    int64
	// slowly varying state
	memBase  float64
	diskUsed float64
}

var categories = []string{"electronics", "books", "home", "garden", "toys", "fashion", "sports", "beauty"}

var itemWords = map[string][2][]string{
	"electronics": {{"Wireless", "Compact", "Smart", "Pro"}, {"Headphones", "Speaker", "Charger", "Camera", "Monitor"}},
	"books":       {{"Illustrated", "Complete", "Pocket", "Annotated"}, {"Atlas", "Cookbook", "Novel", "Guide", "Anthology"}},
	"home":        {{"Ceramic", "Oak", "Linen", "Steel"}, {"Lamp", "Vase", "Chair", "Shelf", "Kettle"}},
	"garden":      {{"Solar", "Folding", "Rustic", "Hardy"}, {"Planter", "Hose", "Bench", "Trowel", "Lantern"}},
	"toys":        {{"Wooden", "Giant", "Magnetic", "Plush"}, {"Puzzle", "Robot", "Train", "Bear", "Blocks"}},
	"fashion":     {{"Classic", "Slim", "Woollen", "Vintage"}, {"Jacket", "Scarf", "Sneakers", "Belt", "Hat"}},
	"sports":      {{"Carbon", "Trail", "Indoor", "Pro"}, {"Racket", "Bottle", "Helmet", "Mat", "Ball"}},
	"beauty":      {{"Organic", "Gentle", "Daily", "Night"}, {"Serum", "Cream", "Soap", "Balm", "Oil"}},
}

type item struct {
	events.DimItem
}

type provider struct {
	events.DimProvider
	weight   float64
	failRate float64 // organic decline/timeout rate per attempt
	medianMs float64
}

var providers = []provider{
	{events.DimProvider{Provider: "northpay", Name: "NorthPay Cards", Kind: events.KindCard}, 0.40, 0.05, 280},
	{events.DimProvider{Provider: "quickwallet", Name: "QuickWallet", Kind: events.KindWallet}, 0.30, 0.04, 180},
	{events.DimProvider{Provider: "cardnova", Name: "CardNova", Kind: events.KindCard}, 0.20, 0.07, 350},
	{events.DimProvider{Provider: "bankline", Name: "Bankline Transfer", Kind: events.KindBankTransfer}, 0.10, 0.03, 900},
}

type user struct {
	id       string
	ip       string
	agent    string
	provider int // preferred payment provider
	currency string
	bot      bool
}

var browserAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
}

var crawlerAgents = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
}

var scannerAgents = []string{"curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "-"}

var scannerPaths = []string{"/wp-login.php", "/.env", "/admin/config.php", "/phpmyadmin/index.php", "/.git/config", "/cgi-bin/test.cgi", "/xmlrpc.php"}

var staticFiles = []string{
	"/static/css/site.css", "/static/js/app.js", "/static/js/vendor.js", "/static/img/logo.svg",
	"/static/img/hero.webp", "/static/fonts/inter.woff2", "/favicon.ico",
}

// world is the simulated platform, derived from the traffic seed only.
type world struct {
	hosts     []*host
	byService map[string][]*host
	items     []item
	byCat     map[string][]int
	users     []user
	userZipf  *rand.Zipf
	crawlers  []user
	scanners  []user
	bots      int
	catOf     map[string]string
}

func newWorld(r *rand.Rand, nUsers int) *world {
	w := &world{byService: map[string][]*host{}, byCat: map[string][]int{}}
	for _, s := range services {
		for i := 1; i <= s.hosts; i++ {
			h := &host{
				name: fmt.Sprintf("%s-%d", s.name, i), service: s.name, cores: s.cores, memGB: s.memGB,
				node:     fmt.Sprintf("%s-%08x-%05x", s.name, r.Uint32(), r.Uint32()&0xfffff),
				memBase:  0.25 + 0.15*r.Float64(),
				diskUsed: 20 + 30*r.Float64(),
			}
			w.hosts = append(w.hosts, h)
			w.byService[s.name] = append(w.byService[s.name], h)
		}
	}
	for i := 0; i < 240; i++ {
		cat := categories[r.IntN(len(categories))]
		words := itemWords[cat]
		price := math.Round(math.Exp(math.Log(25)+0.9*r.NormFloat64())*100) / 100
		w.items = append(w.items, item{events.DimItem{
			Item:     fmt.Sprintf("sku-%05d", 10000+i),
			Name:     words[0][r.IntN(len(words[0]))] + " " + words[1][r.IntN(len(words[1]))],
			Category: cat,
			Price:    math.Max(1, price),
		}})
		w.byCat[cat] = append(w.byCat[cat], i)
	}

	// Client IPs are heavy-tailed: a quarter of the users sit behind a few
	// dozen shared (NAT, office, mobile carrier) addresses picked by Zipf.
	natIPs := make([]string, 40)
	for i := range natIPs {
		natIPs[i] = fmt.Sprintf("100.64.%d.%d", r.IntN(256), 1+r.IntN(254))
	}
	natZipf := rand.NewZipf(r, 1.3, 1, uint64(len(natIPs)-1))
	w.users = make([]user, nUsers)
	for i := range w.users {
		u := &w.users[i]
		u.id = fmt.Sprintf("u-%06d", i+1)
		if r.Float64() < 0.25 {
			u.ip = natIPs[natZipf.Uint64()]
		} else {
			u.ip = fmt.Sprintf("%d.%d.%d.%d", 11+r.IntN(180), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		}
		u.agent = browserAgents[r.IntN(len(browserAgents))]
		u.provider = pickProvider(r)
		u.currency = "EUR"
		if r.Float64() < 0.3 {
			u.currency = "USD"
		}
	}
	// Session activity per user is Zipf-distributed too: a few users are
	// very active, most come rarely.
	w.userZipf = rand.NewZipf(r, 1.1, 8, uint64(nUsers-1))
	for i, a := range crawlerAgents {
		w.crawlers = append(w.crawlers, user{id: "", ip: fmt.Sprintf("66.249.%d.%d", 64+i, 1+r.IntN(200)), agent: a, bot: true})
	}
	for i := 0; i < 6; i++ {
		w.scanners = append(w.scanners, user{ip: fmt.Sprintf("185.%d.%d.%d", 100+r.IntN(100), r.IntN(256), 1+r.IntN(254)), agent: scannerAgents[i%len(scannerAgents)], bot: true})
	}
	return w
}

func pickProvider(r *rand.Rand) int {
	x := r.Float64()
	for i, p := range providers {
		if x < p.weight {
			return i
		}
		x -= p.weight
	}
	return len(providers) - 1
}

func providerIndex(name string) int {
	for i, p := range providers {
		if p.Provider == name {
			return i
		}
	}
	return 0
}
