package registrysim

import (
	"fmt"
	"strconv"
	"time"
)

// The business registry holds exactly the companies FirstCompanyCode …
// LastCompanyCode.
const (
	// FirstCompanyCode is the smallest company code the business registry knows.
	FirstCompanyCode = "10000001"
	// LastCompanyCode is the largest company code the business registry knows.
	LastCompanyCode = "10001000"
	// CompanyCount is the number of companies in the business registry.
	CompanyCount = 1000

	firstCompanyNumber = 10000001
	companyCodeLen     = len(FirstCompanyCode)
)

// Registration dates fall between 1 January of firstRegistrationYear and the
// last day before 1 January of referenceYear (the civil registry's reference
// day), so that a company never changes from one day to the next.
const firstRegistrationYear = 1992

// Company is one record of the business registry, as getCompany answers it.
// The JSON names are the element names of the SOAP answer, so a REST-to-SOAP
// translation of the answer decodes into a Company.
type Company struct {
	Code             string         `json:"code"` // 8 digits
	Name             string         `json:"name"`
	LegalForm        string         `json:"legal_form"`        // TOV, PP, PrAT, AT, DP, KP or FH
	RegistrationDate string         `json:"registration_date"` // YYYY-MM-DD
	Status           string         `json:"status"`            // active or liquidated
	Address          CompanyAddress `json:"address"`
	// Director is the id of a person of the civil registry.
	Director string `json:"director"`
	// ActivityCode is the main activity, a class of the Ukrainian KVED
	// 2010 classification ("10.71": manufacture of bread).
	ActivityCode string `json:"activity_code"`
}

// CompanyAddress is a company's registered office.
type CompanyAddress struct {
	City   string `json:"city"`
	Street string `json:"street"`
}

// Company statuses, as the registry spells them.
const (
	companyActive     = "active"
	companyLiquidated = "liquidated"
)

// CompanyByCode returns the company with the given 8-digit code and true, or
// the zero Company and false when the code is not one of FirstCompanyCode …
// LastCompanyCode. Every field is derived from the code alone.
func CompanyByCode(code string) (Company, bool) {
	i, ok := companyIndex(code)
	if !ok {
		return Company{}, false
	}
	return generateCompany(i), true
}

// companyIndex maps a company code to its position 0 … CompanyCount-1. Only
// the canonical spelling is accepted: exactly eight ASCII digits.
func companyIndex(code string) (int, bool) {
	if !isCompanyCode(code) {
		return 0, false
	}
	n, _ := strconv.Atoi(code) // eight digits always fit
	i := n - firstCompanyNumber
	if i < 0 || i >= CompanyCount {
		return 0, false
	}
	return i, true
}

// isCompanyCode reports whether code is spelled as a company code: eight
// ASCII digits.
func isCompanyCode(code string) bool {
	if len(code) != companyCodeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// companyCode is the inverse of companyIndex.
func companyCode(i int) string {
	return strconv.Itoa(firstCompanyNumber + i)
}

// generateCompany builds the company at index i (0 … CompanyCount-1).
func generateCompany(i int) Company {
	// Consecutive seeds give SplitMix streams that are shifted copies of
	// each other (neighbours would share directors); seeding with the
	// seed's first output decorrelates them.
	g := newSplitMix(newSplitMix(uint64(firstCompanyNumber + i)).next())
	form := pickLegalForm(g.intn(100))
	trade := trades[g.intn(len(trades))]
	adj := adjectiveStems[g.intn(len(adjectiveStems))] + adjectiveEndings[trade.gender]

	epoch := time.Date(firstRegistrationYear, time.January, 1, 0, 0, 0, 0, time.UTC)
	reference := time.Date(referenceYear, time.January, 1, 0, 0, 0, 0, time.UTC)
	registered := epoch.AddDate(0, 0, g.intn(int(reference.Sub(epoch)/(24*time.Hour))))

	status := companyActive
	if g.intn(100) < 12 {
		status = companyLiquidated
	}
	street := fmt.Sprintf("vul. %s %d", streets[g.intn(len(streets))], 1+g.intn(150))
	if g.intn(2) == 0 {
		street += fmt.Sprintf(", of. %d", 1+g.intn(400))
	}
	return Company{
		Code:             companyCode(i),
		Name:             form + " " + adj + " " + trade.noun,
		LegalForm:        form,
		RegistrationDate: registered.Format(time.DateOnly),
		Status:           status,
		Address:          CompanyAddress{City: cities[g.intn(len(cities))].name, Street: street},
		Director:         personID(g.intn(PersonCount)),
		ActivityCode:     trade.activity,
	}
}

// pickLegalForm turns a roll in 0 … 99 into a legal form by legalForms'
// weights.
func pickLegalForm(roll int) string {
	for _, f := range legalForms {
		if roll < f.weight {
			return f.abbr
		}
		roll -= f.weight
	}
	return legalForms[0].abbr
}

// The tables below are the raw material of the synthetic companies, in the
// national Latin transliteration. Companies pick from them with a per-code
// pseudo-random generator, so reordering or extending a table changes every
// generated company.

// legalForms are the organisational and legal forms with their weight in
// percent: TOV (limited liability company), PP (private enterprise), PrAT
// (private joint-stock company), AT (joint-stock company), DP (state
// enterprise), KP (municipal enterprise), FH (farm).
var legalForms = [...]struct {
	abbr   string
	weight int
}{
	{"TOV", 58}, {"PP", 15}, {"PrAT", 8}, {"AT", 4}, {"DP", 5}, {"KP", 5}, {"FH", 5},
}

// Grammatical genders of trade nouns, which choose the adjective ending.
const (
	feminine = iota
	masculine
	neuter
)

// adjectiveEndings are indexed by gender: Kyivska Pekarnia, Kyivskyi
// Elevator, Kyivske Vydavnytstvo.
var adjectiveEndings = [...]string{feminine: "a", masculine: "yi", neuter: "e"}

// adjectiveStems give the first word of a company name.
var adjectiveStems = [...]string{
	"Kyivsk", "Lvivsk", "Kharkivsk", "Odesk", "Dniprovsk", "Poltavsk",
	"Vinnytsk", "Chernihivsk", "Zhytomyrsk", "Podilsk", "Karpatsk",
	"Slobozhansk", "Volynsk", "Tavriisk", "Nov", "Zolot", "Pivdenn",
	"Pivnichn", "Zakhidn", "Skhidn", "Ukrainsk", "Dobr", "Soniachn",
	"Stepov", "Lisov",
}

// trades are what a company is (the rest of its name) with the KVED class
// of its main activity.
var trades = [...]struct {
	noun     string
	gender   int
	activity string
}{
	{"Pekarnia", feminine, "10.71"},
	{"Ahrofirma", feminine, "01.11"},
	{"Apteka", feminine, "47.73"},
	{"Drukarnia", feminine, "18.12"},
	{"Mebleva Fabryka", feminine, "31.09"},
	{"Budivelna Kompaniia", feminine, "41.20"},
	{"Transportna Kompaniia", feminine, "49.41"},
	{"Turystychna Ahentsiia", feminine, "79.11"},
	{"Klinika", feminine, "86.21"},
	{"Kaviarnia", feminine, "56.10"},
	{"Shveina Fabryka", feminine, "14.13"},
	{"Pasika", feminine, "01.49"},
	{"Molochnyi Zavod", masculine, "10.51"},
	{"Torhovyi Dim", masculine, "46.90"},
	{"Avtoservis", masculine, "45.20"},
	{"Elevator", masculine, "52.10"},
	{"Lohistychnyi Tsentr", masculine, "52.29"},
	{"Khlibozavod", masculine, "10.71"},
	{"Restoran", masculine, "56.10"},
	{"Supermarket", masculine, "47.11"},
	{"IT Tsentr", masculine, "62.01"},
	{"Vydavnytstvo", neuter, "58.11"},
	{"Ahropidpryiemstvo", neuter, "01.11"},
	{"Konsaltynhove Biuro", neuter, "70.22"},
	{"Proektne Biuro", neuter, "71.11"},
	{"Avtopidpryiemstvo", neuter, "49.41"},
}
