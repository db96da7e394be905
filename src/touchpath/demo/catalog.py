"""The world of the demo business: its products, cities and shops, the campaigns and search
terms that bring people in, and the help desk's ticket topics. Data only, and the `Product`
record with the catalogue built from it.

>>> products = catalog()
>>> len(products), products[0].pid, products[0].path
(30, 'NW-1001', '/p/ridgeline-rain-jacket-1001')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CATALOG",
    "CATEGORY_PATH",
    "CITIES",
    "CURRENCY",
    "ENGINES",
    "NEWSLETTER_THEMES",
    "REFERRERS",
    "SEARCH_CAMPAIGNS",
    "SEARCH_TERMS",
    "SITE",
    "SOCIAL_CAMPAIGNS",
    "STORES",
    "TICKET_TOPICS",
    "Product",
    "catalog",
    "slug",
]

SITE = "https://www.northwind-outfitters.example"
CURRENCY = "EUR"

# category -> (product name, price in EUR, quality 1-5)
CATALOG: dict[str, list[tuple[str, float, float]]] = {
    "Jackets": [
        ("Ridgeline Rain Jacket", 149.0, 4.4),
        ("Summit Down Jacket", 229.0, 4.6),
        ("Trailhead Softshell", 119.0, 4.1),
        ("Stormbreak Hardshell", 289.0, 4.5),
        ("Featherlite Wind Shell", 79.0, 3.6),
        ("Fjord Insulated Parka", 259.0, 4.2),
    ],
    "Footwear": [
        ("Granite Hiking Boot", 169.0, 4.3),
        ("Trail Runner X", 129.0, 3.7),
        ("Canyon Approach Shoe", 139.0, 4.0),
        ("Merino Hiking Socks 3-pack", 24.0, 4.5),
        ("Camp Slip-on", 59.0, 3.9),
    ],
    "Backpacks": [
        ("Daypack 22L", 69.0, 4.4),
        ("Expedition Pack 65L", 219.0, 4.3),
        ("Hydration Pack 12L", 59.0, 3.8),
        ("Commuter Pack 28L", 89.0, 4.1),
    ],
    "Camping": [
        ("Basecamp 3P Tent", 349.0, 4.2),
        ("Ultralight 1P Tent", 279.0, 3.6),
        ("Alpine Sleeping Bag -5C", 189.0, 4.4),
        ("Self-inflating Mat", 69.0, 3.9),
        ("Camp Stove Mini", 45.0, 4.5),
    ],
    "Base Layers": [
        ("Merino 200 Long Sleeve", 79.0, 4.6),
        ("Merino Leggings", 69.0, 4.4),
        ("Synthetic Tee", 29.0, 3.9),
        ("Grid Fleece Midlayer", 89.0, 4.2),
    ],
    "Accessories": [
        ("Merino Beanie", 25.0, 4.5),
        ("Headlamp 400", 39.0, 4.1),
        ("Insulated Bottle 750ml", 29.0, 4.6),
        ("Trekking Poles", 79.0, 3.8),
        ("Waterproof Gloves", 45.0, 3.5),
        ("Trail Gaiters", 35.0, 4.0),
    ],
}

# name, time zone, locale, UTC offset in winter (hours), weight, has a store
CITIES: list[tuple[str, str, str, int, float, bool]] = [
    ("Berlin", "Europe/Berlin", "de-DE", 1, 12.0, True),
    ("Hamburg", "Europe/Berlin", "de-DE", 1, 7.0, True),
    ("Munich", "Europe/Berlin", "de-DE", 1, 8.0, True),
    ("Cologne", "Europe/Berlin", "de-DE", 1, 5.0, False),
    ("Frankfurt", "Europe/Berlin", "de-DE", 1, 4.0, False),
    ("Vienna", "Europe/Vienna", "de-AT", 1, 6.0, True),
    ("Zurich", "Europe/Zurich", "de-CH", 1, 4.0, False),
    ("Amsterdam", "Europe/Amsterdam", "nl-NL", 1, 7.0, True),
    ("Rotterdam", "Europe/Amsterdam", "nl-NL", 1, 3.0, False),
    ("Brussels", "Europe/Brussels", "fr-BE", 1, 3.0, False),
    ("Paris", "Europe/Paris", "fr-FR", 1, 9.0, True),
    ("Lyon", "Europe/Paris", "fr-FR", 1, 3.0, False),
    ("Copenhagen", "Europe/Copenhagen", "da-DK", 1, 3.0, False),
    ("Stockholm", "Europe/Stockholm", "sv-SE", 1, 3.0, False),
    ("Milan", "Europe/Rome", "it-IT", 1, 4.0, False),
    ("Madrid", "Europe/Madrid", "es-ES", 1, 4.0, False),
    ("Dublin", "Europe/Dublin", "en-IE", 0, 3.0, False),
    ("Lisbon", "Europe/Lisbon", "pt-PT", 0, 2.0, False),
]

STORES = {
    "Berlin": ("store_berlin_mitte", "Northwind Berlin Mitte"),
    "Hamburg": ("store_hamburg", "Northwind Hamburg"),
    "Munich": ("store_munich", "Northwind Munich"),
    "Vienna": ("store_vienna", "Northwind Vienna"),
    "Amsterdam": ("store_amsterdam", "Northwind Amsterdam"),
    "Paris": ("store_paris", "Northwind Paris"),
}

SEARCH_TERMS = {
    "Jackets": ["rain jacket", "waterproof jacket women", "down jacket sale"],
    "Footwear": ["hiking boots", "trail running shoes", "waterproof boots men"],
    "Backpacks": ["hiking backpack 22l", "daypack", "65l trekking backpack"],
    "Camping": ["lightweight tent", "sleeping bag winter", "camping stove"],
    "Base Layers": ["merino base layer", "thermal leggings", "fleece jacket"],
    "Accessories": ["headlamp", "trekking poles", "insulated bottle"],
}
SEARCH_CAMPAIGNS = ["brand_search", "generic_outdoor", "shopping_feed", "competitor_terms"]
SOCIAL_CAMPAIGNS = ["autumn_lookbook", "trail_stories_video", "prospecting_lookalike", "ugc_reels"]
REFERRERS = [
    "https://www.outdoorgearlab.example/best-rain-jackets",
    "https://www.reddit.com/r/hiking/",
    "https://www.trailforum.example/threads/boots",
    "https://www.komoot.com/",
    "https://blog.alpinetrails.example/packing-list",
]
ENGINES = (
    ("https://www.google.com/", 0.86),
    ("https://www.bing.com/", 0.08),
    ("https://duckduckgo.com/", 0.06),
)
"""Search engines as referrers of organic visits, weighted."""
NEWSLETTER_THEMES = [
    ("trail_season", "Trail season is here: new boots and packs"),
    ("rain_ready", "Rain-ready: jackets that keep you dry"),
    ("layering_101", "Layering 101 for cold mornings"),
    ("camp_checklist", "Your autumn camping checklist"),
    ("members_picks", "Members' picks of the month"),
    ("new_arrivals", "Just landed: new arrivals"),
    ("trail_running", "Run the trails: shoes and vests"),
]
TICKET_TOPICS = {
    "delivery": ("my delivery", "Where is my order?"),
    "returns": ("my return", "Return and refund"),
    "sizing": ("the sizing", "Wrong size, need an exchange"),
    "damaged": ("the damaged item", "Item arrived damaged"),
    "payment": ("my payment", "Payment failed in the app"),
    "account": ("my account", "Cannot log in to my account"),
}


def slug(text: str) -> str:
    """`text` as a URL path segment."""
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


CATEGORY_PATH = {category: f"/c/{slug(category)}" for category in CATALOG}


@dataclass(frozen=True)
class Product:
    pid: str
    sku: str
    name: str
    category: str
    price: float
    quality: float
    path: str


def catalog() -> list[Product]:
    """Every product, numbered from NW-1001 in the order of `CATALOG`."""
    products = []
    n = 1001
    for category, items in CATALOG.items():
        for name, price, quality in items:
            pid = f"NW-{n}"
            products.append(
                Product(
                    pid,
                    f"{pid}-{name[:3].upper()}",
                    name,
                    category,
                    price,
                    quality,
                    f"/p/{slug(name)}-{n}",
                )
            )
            n += 1
    return products
