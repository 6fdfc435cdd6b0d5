// The evaluation's knowledge base: the help centre of "Beanly", a fictional
// coffee shop that sells beans, grinders and subscriptions online. Written as
// a support team writes articles (headings, short paragraphs, keywords an
// editor would add), before the questions in questions.ts and before any
// tuning of retrieval: the evaluation measures retrieval, it is not fitted to it.
export type EvalArticle = {
  /** a stable name the questions refer to */
  key: string
  title: string
  body: string
  keywords: string[]
}

export const ARTICLES: EvalArticle[] = [
  {
    key: 'reset-password',
    title: 'Resetting your password',
    keywords: ['forgot password', 'sign in', 'log in', 'locked out', 'reset link'],
    body: `## Request a reset link

On the sign-in page, choose "Forgot password?" and enter the email address of your Beanly account. We send a reset link within five minutes.

## Use the link

The link works once and expires after thirty minutes. Open it on any device, choose a new password of at least ten characters, and you are signed in.

## The email does not arrive

Check your spam folder, and make sure you typed the address your account uses. After three attempts in an hour, wait an hour before asking again.`,
  },
  {
    key: 'two-step',
    title: 'Turning on two-step verification',
    keywords: [
      '2FA',
      'two-factor authentication',
      'authenticator app',
      'security code',
      'one-time code',
    ],
    body: `## Why turn it on

Two-step verification asks for a six-digit code from an authenticator app every time you sign in on a new device, so a stolen password alone is not enough.

## How to set it up

Go to Account, then Security, and choose "Turn on two-step verification". Scan the QR code with an authenticator app such as Google Authenticator or 1Password, then type the code it shows.

## Lost your phone

Use one of the recovery codes you saved when you set it up. If you have none left, contact us from the email address on your account and we will verify your identity.`,
  },
  {
    key: 'change-email',
    title: 'Changing the email address on your account',
    keywords: ['update email', 'new email address', 'login email'],
    body: `Go to Account, then Profile, and choose "Change email". Enter the new address and your current password.

We send a confirmation link to the new address. Your account keeps using the old address until you click it; the link expires after 24 hours.

Order confirmations and receipts go to the new address from then on. Past receipts stay available under Orders.`,
  },
  {
    key: 'delete-account',
    title: 'Closing your account and deleting your data',
    keywords: ['delete account', 'close account', 'GDPR', 'erase my data', 'remove personal data'],
    body: `## Before you close it

Cancel any active subscription first and wait for open orders to be delivered: a closed account cannot track them.

## Closing the account

Go to Account, then Privacy, and choose "Close my account". We ask for your password to confirm.

## What we delete

Your profile, addresses, saved cards and preferences are erased within 30 days. We keep invoices for ten years, as tax law requires, without any marketing data.`,
  },
  {
    key: 'track-order',
    title: 'Tracking your order',
    keywords: ['where is my order', 'tracking number', 'order status', 'parcel', 'package'],
    body: `## Find the tracking link

When your order leaves our roastery we email you a tracking link. You can also find it under Orders: open the order and choose "Track parcel".

## What the statuses mean

"Roasting" means we are preparing your beans; "Shipped" means the carrier has it; "Out for delivery" means it arrives today.

## No movement for several days

If the tracking has not changed for five working days, contact us with your order number and we will open an investigation with the carrier.`,
  },
  {
    key: 'delivery-times',
    title: 'Delivery times and shipping costs',
    keywords: [
      'shipping fee',
      'delivery cost',
      'how long does delivery take',
      'free shipping',
      'express delivery',
    ],
    body: `## How long it takes

We roast on Mondays and Thursdays and ship the same day. Standard delivery takes two to three working days; express delivery arrives the next working day when you order before noon.

## What it costs

Standard delivery costs 3.90 and is free on orders over 35. Express delivery costs 7.50 whatever the order's value.`,
  },
  {
    key: 'international-shipping',
    title: 'Shipping outside the country',
    keywords: [
      'international delivery',
      'ship abroad',
      'customs duties',
      'import taxes',
      'overseas',
    ],
    body: `## Where we ship

We ship to every country of the European Union, the United Kingdom, Switzerland and Norway. We do not ship to other countries yet.

## Costs and times

International delivery costs 9.90 and takes four to eight working days.

## Customs

Orders to the United Kingdom, Switzerland and Norway may be charged import duties and VAT by the carrier on delivery. These charges are set by the destination country and are paid by the recipient.`,
  },
  {
    key: 'returns',
    title: 'Returning an item and getting a refund',
    keywords: ['refund', 'send back', 'return policy', 'money back', 'exchange'],
    body: `## What you can return

Unopened bags of coffee and any equipment in its original packaging can be returned within 30 days of delivery. Opened coffee cannot be returned, for hygiene reasons.

## How to return

Under Orders, open the order and choose "Return items". Print the prepaid label and drop the parcel at any post office.

## Your refund

We refund to the original payment method within five working days of receiving the parcel. Shipping costs are refunded only when the item was faulty.`,
  },
  {
    key: 'damaged-item',
    title: 'An item arrived damaged or is missing',
    keywords: ['broken', 'damaged parcel', 'missing item', 'wrong item', 'leaking bag'],
    body: `We are sorry when something arrives broken. Take a photo of the item and of the box, and send them to us within 14 days of delivery through the contact form, with your order number.

For a missing or wrong item, tell us which one: we check the packing record.

We send a replacement at no cost, or refund the item if you prefer. You do not need to send a broken item back.`,
  },
  {
    key: 'pause-subscription',
    title: 'Pausing or skipping a subscription delivery',
    keywords: [
      'skip a delivery',
      'pause subscription',
      'holiday',
      'postpone',
      'delay next shipment',
    ],
    body: `## Skip one delivery

Under Subscriptions, choose "Skip next delivery". You can skip any delivery up to two days before its roast day.

## Pause for a while

Choose "Pause" and pick a date to resume, up to three months ahead. You are not charged while the subscription is paused.

## Change the frequency

You can also receive coffee every one, two or four weeks: choose "Change frequency".`,
  },
  {
    key: 'cancel-subscription',
    title: 'Cancelling your subscription',
    keywords: [
      'cancel subscription',
      'stop subscription',
      'unsubscribe from coffee',
      'end plan',
      'stop recurring payments',
    ],
    body: `Under Subscriptions, choose "Cancel subscription" and tell us why, if you like.

A delivery that is already roasting cannot be cancelled: it ships and is charged. After that you are never charged again.

There is no cancellation fee and no minimum term. You can start a new subscription whenever you want.`,
  },
  {
    key: 'payment-methods',
    title: 'Payment methods we accept',
    keywords: ['pay', 'credit card', 'PayPal', 'Apple Pay', 'bank transfer'],
    body: `We accept Visa, Mastercard and American Express cards, PayPal, Apple Pay and Google Pay.

Subscriptions can be paid by card or PayPal only. We do not accept cash on delivery, cheques or bank transfers.

All prices include VAT. Your card is charged when the order ships, not when you place it.`,
  },
  {
    key: 'failed-payment',
    title: 'When a payment fails',
    keywords: ['card declined', 'payment declined', 'payment error', 'update card', 'expired card'],
    body: `## Why a payment fails

The most common reasons are an expired card, insufficient funds, or your bank blocking an online payment until you confirm it in its app.

## Update your card

Go to Account, then Payment methods, and add a new card or update the expiry date. For a subscription, we try the payment again the next day, and twice more after that.

## After three failures

The subscription is paused and we email you. It resumes as soon as a payment goes through.`,
  },
  {
    key: 'invoices',
    title: 'Downloading invoices and VAT receipts',
    keywords: ['invoice', 'receipt', 'VAT number', 'company invoice', 'billing document'],
    body: `Every order has an invoice as a PDF. Under Orders, open the order and choose "Download invoice".

To put your company's name and VAT number on invoices, add them under Account, then Billing details, before you order: we cannot change an invoice once it is issued.

For a subscription, each delivery has its own invoice.`,
  },
  {
    key: 'gift-cards',
    title: 'Buying and redeeming gift cards',
    keywords: ['gift card', 'voucher', 'gift code', 'present', 'redeem code'],
    body: `## Buying one

Gift cards come in values of 25, 50 and 100 and are sent by email on the date you choose, with your message.

## Redeeming one

Enter the code at checkout under "Gift card or voucher". Any amount left stays on the card for your next order.

## Validity

Gift cards are valid for two years from purchase. They cannot be exchanged for cash.`,
  },
  {
    key: 'change-address',
    title: 'Changing your delivery address',
    keywords: ['shipping address', 'moved house', 'wrong address', 'update address', 'new address'],
    body: `## For future orders

Under Account, then Addresses, add the new address and make it your default. Subscriptions use the default address from their next delivery.

## For an order already placed

You can change the address until the order's status is "Shipped": open the order and choose "Edit address". Once it has shipped, contact the carrier through the tracking link to redirect it.`,
  },
  {
    key: 'grinder-cleaning',
    title: 'Cleaning your Beanly grinder',
    keywords: ['grinder', 'clean burrs', 'maintenance', 'clogged', 'grinder stuck'],
    body: `## How often

Clean the burrs every two weeks if you grind daily: old coffee oil makes the coffee bitter and can clog the chute.

## Step by step

Unplug the grinder, empty the hopper and turn the top burr anticlockwise to lift it out. Brush both burrs with the brush in the box; never use water on them. Put the burr back and turn it clockwise until it clicks.

## Still clogged

Grind a spoonful of dry rice to push out old grounds, then grind a few beans and throw them away.`,
  },
  {
    key: 'notifications',
    title: 'Managing email and text notifications',
    keywords: ['notifications', 'emails', 'SMS', 'newsletter', 'marketing emails', 'opt out'],
    body: `Under Account, then Notifications, choose which messages you receive.

Order and delivery updates can come by email, by text message or both. Marketing emails and the newsletter are off unless you turned them on; every one of them has an unsubscribe link.

We always send receipts and security messages, such as a password reset, by email.`,
  },
]
