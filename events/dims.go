package events

// DimItem is one catalogue item on the compacted dims.items topic, keyed by Item.
type DimItem struct {
	Item     string  `json:"item"`
	Name     string  `json:"name,omitempty"`
	Category string  `json:"category"`
	Price    float64 `json:"price"`
}

// DimProvider is one payment provider on the compacted dims.providers topic,
// keyed by Provider.
type DimProvider struct {
	Provider string `json:"provider"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
}

// ProviderKinds lists every valid DimProvider.Kind.
var ProviderKinds = []string{KindCard, KindWallet, KindBankTransfer}

// ParseDimItem reads one dims.items payload and validates it. An empty
// payload (a compaction tombstone) is ErrEmpty.
func ParseDimItem(b []byte) (DimItem, error) {
	var d DimItem
	if err := checkPayload(b); err != nil {
		return d, err
	}
	p := jsonScanner{s: string(b)}
	if err := p.begin(); err != nil {
		return d, err
	}
	for {
		key, ok, err := p.nextKey()
		if err != nil {
			return DimItem{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "item":
			d.Item, err = p.str(key)
		case "name":
			d.Name, err = p.str(key)
		case "category":
			d.Category, err = p.str(key)
		case "price":
			d.Price, err = p.float(key)
		default:
			err = p.skip(key)
		}
		if err != nil {
			return DimItem{}, err
		}
	}
	if err := p.end(); err != nil {
		return DimItem{}, err
	}
	if err := d.Validate(); err != nil {
		return DimItem{}, err
	}
	return d, nil
}

// Validate checks required fields and ranges.
func (d *DimItem) Validate() error {
	switch {
	case d.Item == "":
		return missingErr("item")
	case d.Category == "":
		return missingErr("category")
	case !finite(d.Price) || d.Price < 0 || d.Price > 1e9:
		return invalidErr("price", "out of range 0-1e9")
	}
	return nil
}

// AppendJSON appends the item as one JSON object (no newline).
func (d *DimItem) AppendJSON(dst []byte) []byte {
	o := newJSONObject(dst)
	o.str("item", d.Item)
	o.strOmit("name", d.Name)
	o.str("category", d.Category)
	o.float("price", d.Price)
	return o.close()
}

// ParseDimProvider reads one dims.providers payload and validates it.
func ParseDimProvider(b []byte) (DimProvider, error) {
	var d DimProvider
	if err := checkPayload(b); err != nil {
		return d, err
	}
	p := jsonScanner{s: string(b)}
	if err := p.begin(); err != nil {
		return d, err
	}
	for {
		key, ok, err := p.nextKey()
		if err != nil {
			return DimProvider{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "provider":
			d.Provider, err = p.str(key)
		case "name":
			d.Name, err = p.str(key)
		case "kind":
			d.Kind, err = p.str(key)
		default:
			err = p.skip(key)
		}
		if err != nil {
			return DimProvider{}, err
		}
	}
	if err := p.end(); err != nil {
		return DimProvider{}, err
	}
	if err := d.Validate(); err != nil {
		return DimProvider{}, err
	}
	return d, nil
}

// Validate checks required fields and ranges.
func (d *DimProvider) Validate() error {
	switch {
	case d.Provider == "":
		return missingErr("provider")
	case d.Name == "":
		return missingErr("name")
	case d.Kind == "":
		return missingErr("kind")
	case !oneOf(d.Kind, ProviderKinds):
		return invalidErr("kind", "want card, wallet or bank_transfer")
	}
	return nil
}

// AppendJSON appends the provider as one JSON object (no newline).
func (d *DimProvider) AppendJSON(dst []byte) []byte {
	o := newJSONObject(dst)
	o.str("provider", d.Provider)
	o.str("name", d.Name)
	o.str("kind", d.Kind)
	return o.close()
}
