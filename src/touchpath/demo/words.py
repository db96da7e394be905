"""The words customers use in survey comments and reviews, by touchpoint and mood.

Written to be scored by a lexicon model (VADER): negative texts read clearly negative, positive
ones clearly positive (the tests hold VADER to that). `{topic}`, `{topic_cap}`, `{product}` and
`{days}` are filled in by the support behaviour.
"""

from __future__ import annotations

__all__ = [
    "MID_NPS",
    "MID_SUPPORT",
    "NEG_CHECKOUT",
    "NEG_DELIVERY",
    "NEG_NPS",
    "NEG_SUPPORT",
    "POS_CHECKOUT",
    "POS_DELIVERY",
    "POS_NPS",
    "POS_SUPPORT",
    "REVIEW_TEXT",
]

NEG_SUPPORT = [
    "Waited {days} for an answer about {topic}. Terrible, useless support.",
    "Nobody replied for {days}. Really disappointed with how {topic} was handled.",
    "Awful experience. I had to chase {topic} again and again before anyone helped.",
    "Slow, unhelpful and frustrating. {days} of silence about {topic}.",
    "Terrible service. {topic_cap} took forever and nobody cared. Very disappointed.",
    "Horrible wait, {days} before anyone looked at {topic}. Unacceptable and stressful.",
    "Worst customer service ever, {days} of waiting about {topic}. Shame on you.",
    "Very poor support, {days} without a reply about {topic}. I am angry and will not order again.",
]
POS_SUPPORT = [
    "Quick and friendly help with {topic}, thank you!",
    "Great support, {topic} was sorted within hours. Really happy.",
    "Excellent service, the agent was helpful and kind about {topic}.",
    "Fast answer and a great solution for {topic}. Thanks a lot!",
    "Super helpful team, {topic} fixed the same day. Love it.",
    "Brilliant support, friendly people and {topic} solved quickly. Thank you!",
]
MID_SUPPORT = [
    "It took a while but {topic} got resolved in the end.",
    "Okay support, {topic} is sorted now.",
]
NEG_DELIVERY = [
    "My {product} arrived a week late, very disappointing.",
    "Delivery was terrible and slow, the {product} came days late. Very disappointed.",
    "Late parcel and no updates. Frustrating, annoying wait for my {product}.",
    "Awful delivery, the {product} box was crushed and a week late.",
]
POS_DELIVERY = [
    "Fast delivery, the {product} arrived well packed. Great!",
    "Arrived earlier than expected, love my new {product}.",
    "Quick and easy delivery, the {product} is perfect. Thank you!",
    "Great service, my {product} came the next day. Very happy!",
]
NEG_CHECKOUT = [
    "The app checkout kept failing at payment, so frustrating.",
    "Payment in the app was broken twice, annoying and confusing.",
    "Awful payment page in the app, it rejected my card for no reason.",
    "Terrible checkout, the card page crashed and I almost gave up.",
]
POS_CHECKOUT = [
    "Easy checkout, great experience.",
    "Smooth and quick payment, love it.",
    "Checkout was simple and fast. Nice!",
    "Paying was quick and secure, great app.",
]
POS_NPS = [
    "Love Northwind, great quality gear and friendly staff.",
    "Great products and excellent service, I recommend them to all my friends.",
    "Reliable, helpful and the {product} is the best I have owned.",
]
MID_NPS = [
    "Good gear but prices are a bit high.",
    "Decent shop, delivery could be faster.",
]
NEG_NPS = [
    "Poor service lately, support ignored me for days. Disappointed.",
    "Bad experience, slow answers and a broken {product}. Not impressed.",
    "Terrible support and late deliveries, really disappointing. I will shop elsewhere.",
    "Used to love this shop, now it is frustrating and unreliable. Sad.",
]
REVIEW_TEXT = {
    5: [
        "Absolutely love this {product}. Excellent quality and fits perfectly.",
        "Best {product} I have owned, great on long hikes.",
        "Fantastic {product}, warm, comfortable and well made. Highly recommend!",
    ],
    4: [
        "Very good {product}, comfortable and nice design.",
        "Good value, the {product} works well on the trail.",
    ],
    3: [
        "The {product} is okay, nothing special.",
        "Average {product}, does the job but feels a bit cheap.",
    ],
    2: [
        "Disappointed with the {product}, it started to wear out quickly.",
        "Poor fit and uncomfortable {product}, not worth the price.",
    ],
    1: [
        "Terrible {product}, it broke after two hikes. Do not buy.",
        "Awful quality, the {product} leaked on the first rainy day. Waste of money.",
    ],
}
