"""Message templates of the traffic simulator, per language and scenario.

Templates are ``str.format`` strings over the slots filled per conversation by
``streams.simulators.chat``: ``{name}`` and ``{surname}`` (customer), ``{agent}`` (a human agent),
``{order}``, ``{tracking}``, ``{product}`` (with its article where the language needs one),
``{amount}`` and ``{price}`` (formatted money), ``{date}`` (a past day), ``{new_date}`` (a
coming day), ``{plan}``, ``{seats}``, ``{days}``, ``{minutes}``, ``{last4}``, ``{email}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Script:
    """What is said in one scenario: the customer's first message, the customer's later
    messages, the bot's answers and the human agent's answers."""

    opening: tuple[str, ...]
    follow_up: tuple[str, ...]
    bot: tuple[str, ...]
    agent: tuple[str, ...]


@dataclass(frozen=True)
class LanguagePack:
    tag: str
    names: tuple[str, ...]
    surnames: tuple[str, ...]
    products: tuple[str, ...]
    months: tuple[str, ...]
    date_format: str  # over {day} and {month}
    currency_symbol: str
    money_format: str  # over {symbol} and {value}
    decimal_comma: bool
    thanks: tuple[str, ...]
    frustrated: tuple[str, ...]
    bot_more: tuple[str, ...]
    bot_handoff: tuple[str, ...]
    agent_bye: tuple[str, ...]
    customer_intro: tuple[str, ...]  # put before a customer's first message, sometimes
    customer_tail: tuple[str, ...]  # put after a customer's message, sometimes
    bot_intro: tuple[str, ...]  # put before a bot answer, sometimes
    scripts: dict[str, Script]
    # What the customer says when a conversation needs a person (see simulate.CAUSES)
    ask_human: tuple[str, ...]  # asks for a person, in many wordings
    angry: tuple[str, ...]  # the mood at its worst, after ``frustrated``
    disappointed: tuple[str, ...]  # a valued customer turning negative
    legal: tuple[str, ...]  # threatens legal action
    vague: tuple[str, ...]  # says nothing the bot can act on
    repeat_prefix: tuple[str, ...]  # put before the question asked again
    # ... and the bot's side of it
    bot_fallback: tuple[str, ...]  # the bot did not understand
    bot_clarify: tuple[str, ...]  # the bot asks what it is about
    #: Follow-ups of the scripts that complain or ask for money back: said on the way to a
    #: person, never in a conversation the bot resolves.
    upset: frozenset[str] = frozenset()


#: Scenario -> category (what a support team would file it under).
SCENARIO_CATEGORY: Final[dict[str, str]] = {
    "password_reset": "support",
    "delivery_status": "support",
    "how_to": "support",
    "late_delivery": "complaint",
    "double_charge": "complaint",
    "broken_product": "complaint",
    "escalation": "complaint",
    "pricing": "sales",
    "demo": "sales",
    "billing": "billing",
    "cancellation": "cancellation",
    "refund": "cancellation",
}

PLANS: Final = ("Basic", "Pro", "Business")
PLAN_PRICES: Final[dict[str, float]] = {"Basic": 9.0, "Pro": 24.0, "Business": 49.0}

EN = LanguagePack(
    tag="en",
    names=("Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan",
           "Grace", "Daniel", "Chloe", "Ryan", "Hannah", "Marcus", "Priya", "Tom", "Aisha",
           "Jack"),
    surnames=("Smith", "Johnson", "Brown", "Taylor", "Walker", "Patel", "Nguyen", "Clarke",
              "Murphy", "Lee", "Evans", "Hughes"),
    products=("Brio 200 coffee maker", "Nimbus 3 headset", "AeroBlend X2 blender",
              "Lumen desk lamp", "Trek 40L backpack", "Pulse smartwatch", "Atlas office chair",
              "Vela air purifier", "Orbit robot vacuum", "Kite e-reader"),
    months=("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"),
    date_format="{month} {day}",
    currency_symbol="$",
    money_format="{symbol}{value}",
    decimal_comma=False,
    thanks=("Thanks, that's all I needed.", "Perfect, thank you!", "Great, have a nice day.",
            "Thank you so much for your help, {name} here, really appreciated!",
            "Awesome, that solved it."),
    frustrated=("This is taking way too long.", "Seriously? That's not helpful at all.",
                "I'm really disappointed with how this is being handled.",
                "Why is this so complicated?", "I've already explained this twice."),
    bot_more=("Is there anything else I can help you with?",
              "Glad I could help, {name}! Anything else?", "Happy to help. Have a great day!",
              "You're welcome! Let me know if you need anything else."),
    bot_handoff=("I'm transferring you to a human agent now. The wait time is about "
                 "{minutes} minutes.", "Let me connect you with a specialist from our team.",
                 "I'll hand this over to a colleague who can look into your account."),
    agent_bye=("Is there anything else I can do for you today, {name}?",
               "Thanks for your patience, {name}. Have a good day!",
               "All sorted on my side. Take care, {name}."),
    customer_intro=("{name} here.", "This is {name} {surname}.", "Hi, it's {name} again.",
                    "Good morning.", "Hello, my account is {email}."),
    customer_tail=("Order {order}.", "My email is {email}.", "Thanks.", "Please help.",
                   "Thanks in advance, {name}", "It's urgent.", "(account {email})"),
    bot_intro=("Thanks, {name}.", "Sure, {name}!", "Got it, {name}.", "Of course.",
               "Thanks for waiting, {name}."),
    ask_human=("Can I talk to a real person, please?",
               "I'd like to speak to someone from your team.",
               "Just put me through to an agent.",
               "Please connect me with a human, not a bot.",
               "I need a supervisor on this.",
               "Could someone from your staff call me back?",
               "Get me a manager, please.",
               "Let me speak with a representative.",
               "Is there an actual human I can chat with?",
               "I want to talk to customer service, a person."),
    angry=("This is absolutely ridiculous, nothing you say helps. I'm furious.",
           "Unbelievable. You are wasting my time and I'm fed up with this terrible service.",
           "I am really angry now. This is the worst support I have ever had.",
           "This is a disgrace. I'm done being patient."),
    disappointed=("Honestly I expected much better, I've been a loyal customer for years.",
                  "I'm very disappointed, we pay a lot for this and it keeps failing.",
                  "This is not the level of service we pay for. Really unhappy."),
    legal=("If this isn't sorted by {new_date}, my lawyer will be in touch.",
           "I'm going to take legal action over this.",
           "I will sue you if I don't get my {amount} back.",
           "I'm taking this to small claims court."),
    vague=("Hi, it's about the thing from last week.", "Same problem as before, can you check?",
           "Hello? Anyone there?", "It happened again.", "I have a question about something.",
           "you know what I mean"),
    repeat_prefix=("I said:", "Again:", "Let me repeat:", "As I already wrote,"),
    bot_fallback=("Sorry, I didn't understand that. Could you rephrase?",
                  "I'm not sure I understand. Can you say that another way?",
                  "Hmm, I couldn't find an answer to that. Try asking differently.",
                  "I'm still learning and didn't catch that."),
    upset=frozenset({
        "Still nothing. This is the third time I've tried today.",
        "I needed it for a birthday this weekend, now it's useless.",
        "I want the shipping fee refunded, I paid {amount} for express.",
        "This is not acceptable. Every order from you is late.",
        "That's a lot of money to just lose for a week.",
        "I just want a working product, is that too much to ask?",
        "That's more than I expected. Any discount for nonprofits?",
    }),
    bot_clarify=("Could you tell me a bit more about what you need help with?",
                 "Happy to help! What is it about?",
                 "Can you give me some details, like an order number or the product?"),
    scripts={
        "password_reset": Script(
            opening=("Hi, I can't log in to my account, the password reset email never arrives.",
                     "I forgot my password and the reset link says it has expired. Can you help?",
                     "Hello, I need to reset my password for {email}.",
                     "Hey, locked out of my account again after too many attempts. How do I get "
                     "back in?"),
            follow_up=("I checked spam too, nothing there.",
                       "It's {email}. I requested the link about {minutes} minutes ago.",
                       "Ok, got it now, the new password works.",
                       "Still nothing. This is the third time I've tried today."),
            bot=("I'm sorry about that, {name}. I've sent a new reset link to {email}; it is "
                 "valid for 30 minutes.",
                 "Password reset links expire after 30 minutes. I can send you a fresh one right "
                 "now.",
                 "For security I can only send the link to the email on file. Please check your "
                 "spam folder as well."),
            agent=("I've verified your identity and unlocked the account manually, {name}. You "
                   "can log in now.",
                   "I reset the login attempts counter; request a new link and it should arrive "
                   "within a minute."),
        ),
        "delivery_status": Script(
            opening=("Where is my order {order}? It said it would arrive on {new_date}.",
                     "Hi, can you tell me the delivery status of order {order}?",
                     "Hello! Just checking when my {product} will be delivered.",
                     "My tracking number {tracking} hasn't updated in {days} days."),
            follow_up=("The order number is {order}.", "Great, thanks for checking!",
                       "Can I change the delivery address to my office?",
                       "Will someone need to sign for it?"),
            bot=("Order {order} is with the carrier and is expected on {new_date}. Tracking "
                 "number: {tracking}.",
                 "I can see order {order} left our warehouse on {date}; it's currently in "
                 "transit.",
                 "Thanks, {name}. Your {product} is out for delivery today between 9am and 6pm."),
            agent=("I contacted the carrier: the parcel is at the local depot and will be "
                   "delivered on {new_date}.",
                   "I've updated the delivery address on order {order}; you'll get a "
                   "confirmation email shortly."),
        ),
        "how_to": Script(
            opening=("How do I export my invoices as PDF?",
                     "Hi there, how can I add a second user to my {plan} account?",
                     "Is there a way to connect the app to Google Calendar?",
                     "How do I set up two-factor authentication on {email}?"),
            follow_up=("Where is that setting exactly? I don't see it.",
                       "Perfect, that worked. Thanks a lot!",
                       "Does that also work on the mobile app?",
                       "And can I do that for all {seats} people on my team at once?"),
            bot=("Go to Settings > Billing > Invoices and click Download next to each invoice, "
                 "or Export all for a ZIP file.",
                 "You can invite users under Settings > Team > Invite. Your {plan} plan "
                 "includes up to {seats} seats.",
                 "Open Settings, choose Security, then enable two-factor authentication and "
                 "scan the QR code."),
            agent=("I've sent you a short video showing the steps, {name}.",
                   "I enabled the feature on your account; you should see it after you log in "
                   "again."),
        ),
        "late_delivery": Script(
            opening=("My order {order} was supposed to arrive on {date} and it still isn't here. "
                     "This is really frustrating.",
                     "It's been {days} days past the delivery date and no sign of my {product}. "
                     "Terrible service.",
                     "Why is my package {order} late again? I paid {amount} for express shipping!"),
            follow_up=("I needed it for a birthday this weekend, now it's useless.",
                       "I want the shipping fee refunded, I paid {amount} for express.",
                       "Okay, thank you for sorting this out.",
                       "This is not acceptable. Every order from you is late."),
            bot=("I'm really sorry for the delay, {name}. Order {order} is held up at the "
                 "carrier; the new estimate is {new_date}.",
                 "I apologise for the inconvenience. I can refund the express shipping fee of "
                 "{amount} to your original payment method.",
                 "I understand how frustrating this is. Let me check with the carrier."),
            agent=("I've refunded the shipping fee of {amount} and added a 15% voucher to your "
                   "account for the trouble.",
                   "I escalated the case with the carrier; you'll have the parcel by {new_date} "
                   "or we resend it for free."),
        ),
        "double_charge": Script(
            opening=("I was charged twice for order {order}! Two payments of {amount} on my card "
                     "ending {last4}.",
                     "Why do I see a double charge of {amount} on my statement?",
                     "Hi, your system billed me twice this month, {amount} each time. Please fix "
                     "it."),
            follow_up=("Yes, both transactions are from {date}.", "When will I get my money back?",
                       "That's a lot of money to just lose for a week.",
                       "Thanks, I appreciate the quick help."),
            bot=("I'm sorry about that. I can see two authorisations of {amount}; one is a "
                 "pending hold that will be released within 3-5 business days.",
                 "Let me check the payments on the card ending {last4}.",
                 "I've confirmed the duplicate charge and started a refund of {amount}."),
            agent=("The duplicate payment of {amount} has been refunded; it will show on your "
                   "statement in 3-5 business days.",
                   "I've reversed the second charge and emailed you the confirmation, {name}."),
        ),
        "broken_product": Script(
            opening=("My {product} arrived broken. The box was crushed.",
                     "The {product} I bought on {date} stopped working after {days} days.",
                     "Received order {order} today and the {product} is damaged. Very "
                     "disappointed."),
            follow_up=("I've attached photos of the damage.",
                       "I'd prefer a replacement rather than a refund.",
                       "I just want a working product, is that too much to ask?",
                       "Great, a replacement works for me. Thank you!"),
            bot=("I'm sorry your {product} arrived damaged. Could you send a photo of the item "
                 "and the packaging?",
                 "Your {product} is covered by our 2-year warranty. I can arrange a replacement "
                 "or a refund of {amount}.",
                 "Thanks for the photos. I've created a return label for order {order}."),
            agent=("I've shipped a replacement {product} today with express delivery; no need "
                   "to wait for the return.",
                   "Refund of {amount} approved. Keep the broken item, we'll handle the rest."),
        ),
        "escalation": Script(
            opening=("This is the third time I'm contacting you about order {order}. Nobody "
                     "helps!",
                     "I have been waiting {days} days for an answer. Absolutely ridiculous.",
                     "Your bot is useless. I want a real person about order {order}."),
            follow_up=("Let me speak to a manager NOW.", "I want to talk to a human, not a bot!!",
                       "If this isn't fixed today I'm cancelling everything and leaving a review.",
                       "STOP sending me the same link. I need a supervisor.",
                       "This is the worst customer service I have ever experienced."),
            bot=("I understand your frustration, {name}. I'm connecting you with a member of "
                 "our team.",
                 "I'm sorry for the experience so far. Let me get a human agent to help you.",
                 "I can see your previous requests about order {order}. I'm escalating this "
                 "now."),
            agent=("Hi {name}, I'm {agent}, a team lead. I've read the whole history and I'm "
                   "sorry. Let's fix this right now.",
                   "I've issued a full refund of {amount} and flagged your account for priority "
                   "support.",
                   "I've personally taken ownership of order {order} and will call you by "
                   "{new_date}."),
        ),
        "pricing": Script(
            opening=("Hi, how much does the {plan} plan cost?",
                     "What's the price difference between Pro and Business?",
                     "Do you offer discounts for annual billing?",
                     "We're a team of {seats}, what would that cost per month?"),
            follow_up=("Is there a free trial?", "Does the price include support?",
                       "Sounds good, how do I upgrade to {plan}?",
                       "That's more than I expected. Any discount for nonprofits?"),
            bot=("The {plan} plan is {price} per user per month billed annually, or 20% more "
                 "billed monthly.",
                 "For {seats} users on {plan}, the total would be about {amount} per month. "
                 "Annual billing saves 2 months.",
                 "Yes! Every plan comes with a 14-day free trial, no credit card needed."),
            agent=("I can offer a 15% discount for a 12-month commitment on {seats} seats.",
                   "I've sent you a custom quote to {email}."),
        ),
        "demo": Script(
            opening=("I'd like to book a demo for my team.",
                     "Can someone walk us through the product? We're evaluating tools for "
                     "{seats} people.",
                     "Hi, interested in the Enterprise plan. Can we schedule a call?"),
            follow_up=("{new_date} in the afternoon would work best.",
                       "Can you send the invite to {email}?",
                       "Do you integrate with Salesforce and HubSpot?",
                       "Perfect, looking forward to it."),
            bot=("I'd be happy to set that up! What day works best for you?",
                 "Great, I've booked a 30-minute demo on {new_date} at 3pm. The invite is on its "
                 "way to {email}.",
                 "Yes, we have native integrations with Salesforce, HubSpot and Zendesk."),
            agent=("Hi {name}, I'm {agent} from the sales team. I'll run your demo on "
                   "{new_date}.",
                   "I've added our solutions engineer to the call so we can cover the "
                   "integrations."),
        ),
        "billing": Script(
            opening=("Can I get a copy of my invoice from {date}?",
                     "I need to update the credit card on my account.",
                     "Why was I charged {amount} this month? My plan is cheaper.",
                     "How do I add our VAT number to the invoices?"),
            follow_up=("The card ending {last4} expired.",
                       "Ah, I see, I forgot about the extra seats.",
                       "Can you resend the invoice to {email}?", "OK, that makes sense now."),
            bot=("You can download every invoice under Settings > Billing. I've also emailed the "
                 "one from {date} to {email}.",
                 "The charge of {amount} includes {seats} additional seats added on {date}.",
                 "To update your card go to Settings > Billing > Payment method."),
            agent=("I've corrected the invoice and applied a credit of {amount} to your next "
                   "bill.",
                   "Your VAT number is now on the account; I re-issued the last invoice with "
                   "it."),
        ),
        "cancellation": Script(
            opening=("I want to cancel my subscription.",
                     "How do I close my account? I'm moving to another provider.",
                     "Please cancel my {plan} plan at the end of this billing period."),
            follow_up=("It's just too expensive for what we use.",
                       "No thanks, I've made up my mind.", "Will I lose my data right away?",
                       "Fine, a discount might change my mind actually."),
            bot=("I'm sorry to see you go, {name}. Can I ask why you're cancelling?",
                 "Before you go: I can offer you 3 months at 50% off on the {plan} plan.",
                 "Your subscription stays active until {new_date}, and you can export your data "
                 "until then."),
            agent=("I've cancelled the subscription; you won't be charged again. Your data stays "
                   "available until {new_date}.",
                   "I've applied the 50% discount for the next 3 months. Thanks for staying with "
                   "us!"),
        ),
        "refund": Script(
            opening=("I'd like a refund for order {order}.",
                     "I returned the {product} on {date}, when will I get my {amount} back?",
                     "Can I get my money back? The {product} isn't what I expected."),
            follow_up=("I sent it back with tracking number {tracking}.",
                       "How long does the refund take?",
                       "Great, thank you for the fast response!",
                       "It's been {days} days already and still no refund."),
            bot=("Refunds are processed within 5 business days after we receive the item.",
                 "Your return for order {order} arrived on {date}. The refund of {amount} has "
                 "been issued.",
                 "You can return the {product} within 30 days for a full refund. I've emailed "
                 "you a prepaid label."),
            agent=("I've pushed the refund of {amount} through manually; you'll see it in 2-3 "
                   "days.",
                   "Refund approved for order {order}, {name}. Sorry it took so long."),
        ),
    },
)
