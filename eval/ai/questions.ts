// The evaluation's questions, written as customers write them (a subject and a
// message, typos and all) against knowledge-base.ts, before retrieval was
// tuned: paraphrases of what an article answers, and questions the knowledge
// base does not answer (several sharing words with an article), for which the
// only right reply is a hand-off. `answer` names the article that answers the
// question; null means none does.
export type EvalQuestion = { subject: string; body: string; answer: string | null }

export const QUESTIONS: EvalQuestion[] = [
  // reset-password
  {
    subject: 'cant log in',
    body: 'I forgot my password and now I cannot get into my account. What do I do?',
    answer: 'reset-password',
  },
  {
    subject: 'Password reset email',
    body: 'I asked for a new password three times but the email never shows up',
    answer: 'reset-password',
  },
  {
    subject: 'link expired',
    body: 'The link to choose a new password says it has expired, how long is it valid?',
    answer: 'reset-password',
  },
  // two-step
  {
    subject: 'Security',
    body: 'How do I set up 2FA with an authenticator app on my account?',
    answer: 'two-step',
  },
  {
    subject: 'new phone',
    body: 'I lost my phone and cant get the six digit code anymore to sign in',
    answer: 'two-step',
  },
  {
    subject: 'extra security',
    body: 'Is there a way to protect my account with a code in addition to my password?',
    answer: 'two-step',
  },
  // change-email
  {
    subject: 'new email',
    body: 'I want to use a different email address for my Beanly login',
    answer: 'change-email',
  },
  {
    subject: 'Update my email',
    body: 'How can I update the email on my profile? I no longer use my old work address',
    answer: 'change-email',
  },
  // delete-account
  {
    subject: 'GDPR request',
    body: 'Please erase all my personal data, I want my account gone.',
    answer: 'delete-account',
  },
  {
    subject: 'close account',
    body: 'how do i delete my account permanently?',
    answer: 'delete-account',
  },
  {
    subject: 'data',
    body: 'If I close my account, do you keep my invoices and what happens to my saved cards?',
    answer: 'delete-account',
  },
  // track-order
  {
    subject: 'Where is my order??',
    body: 'I ordered last week and have no idea where my parcel is. Is there a tracking number?',
    answer: 'track-order',
  },
  {
    subject: 'tracking not updating',
    body: 'The tracking for my package has said shipped for six days and nothing moves',
    answer: 'track-order',
  },
  {
    subject: 'status',
    body: 'My order status says roasting, what does that mean?',
    answer: 'track-order',
  },
  // delivery-times
  {
    subject: 'delivery',
    body: 'How many days does standard delivery take?',
    answer: 'delivery-times',
  },
  {
    subject: 'shipping price',
    body: 'How much is shipping? Is it free above some amount?',
    answer: 'delivery-times',
  },
  {
    subject: 'Express',
    body: 'If I order this morning can I get it tomorrow with express delivery?',
    answer: 'delivery-times',
  },
  // international-shipping
  {
    subject: 'Ship to Switzerland?',
    body: 'Do you deliver to Switzerland and will I have to pay customs?',
    answer: 'international-shipping',
  },
  {
    subject: 'abroad',
    body: 'I live in Norway, can you send coffee here?',
    answer: 'international-shipping',
  },
  {
    subject: 'Shipping to the US',
    body: 'Do you ship to the United States or Canada?',
    answer: 'international-shipping',
  },
  {
    subject: 'import fees',
    body: 'The courier asked me for import duties on my parcel to the UK, is that normal?',
    answer: 'international-shipping',
  },
  // returns
  {
    subject: 'Refund',
    body: 'I want to send back the grinder I bought, it is still in the box. How do I get my money back?',
    answer: 'returns',
  },
  {
    subject: 'return coffee',
    body: 'can I return a bag of coffee i already opened? I dont like the taste',
    answer: 'returns',
  },
  {
    subject: 'refund time',
    body: 'I posted my return last week, when will the refund reach my card?',
    answer: 'returns',
  },
  // damaged-item
  {
    subject: 'Broken',
    body: 'My grinder arrived with a cracked lid, the box was crushed.',
    answer: 'damaged-item',
  },
  {
    subject: 'missing item',
    body: 'One of the three bags I ordered was not in the parcel',
    answer: 'damaged-item',
  },
  {
    subject: 'wrong product',
    body: 'I received the wrong item, I ordered decaf and got espresso beans',
    answer: 'damaged-item',
  },
  // pause-subscription
  {
    subject: 'holiday',
    body: 'I am away on holiday for a month, can I pause my coffee subscription?',
    answer: 'pause-subscription',
  },
  {
    subject: 'skip',
    body: 'Can I skip the next delivery? I still have plenty of beans',
    answer: 'pause-subscription',
  },
  {
    subject: 'less often',
    body: 'I get too much coffee, can I receive it every four weeks instead of every two?',
    answer: 'pause-subscription',
  },
  // cancel-subscription
  {
    subject: 'Cancel',
    body: 'I want to cancel my subscription please, is there a fee?',
    answer: 'cancel-subscription',
  },
  {
    subject: 'stop charging me',
    body: 'How do I stop the monthly coffee plan? I dont want any more deliveries',
    answer: 'cancel-subscription',
  },
  // payment-methods
  { subject: 'paypal', body: 'Can I pay with PayPal?', answer: 'payment-methods' },
  {
    subject: 'payment',
    body: 'Do you take cash on delivery or bank transfer?',
    answer: 'payment-methods',
  },
  {
    subject: 'card charged',
    body: 'When is my card charged, when I order or when it ships?',
    answer: 'payment-methods',
  },
  // failed-payment
  {
    subject: 'Card declined',
    body: 'My payment keeps getting declined even though there is money on the card',
    answer: 'failed-payment',
  },
  {
    subject: 'expired card',
    body: 'my card expired, how do I put the new one on my subscription?',
    answer: 'failed-payment',
  },
  {
    subject: 'subscription paused?',
    body: 'I got an email that my subscription was paused because the payment failed',
    answer: 'failed-payment',
  },
  // invoices
  {
    subject: 'Invoice',
    body: 'Where can I download an invoice for my last order?',
    answer: 'invoices',
  },
  {
    subject: 'company details',
    body: 'I need our company VAT number on the invoice for accounting',
    answer: 'invoices',
  },
  // gift-cards
  {
    subject: 'gift',
    body: 'I would like to buy a gift card for my brother, can it be emailed on his birthday?',
    answer: 'gift-cards',
  },
  {
    subject: 'voucher code',
    body: 'Where do I enter my gift card code when I check out?',
    answer: 'gift-cards',
  },
  { subject: 'expiry', body: 'how long is a gift card valid for?', answer: 'gift-cards' },
  // change-address
  {
    subject: 'moved',
    body: 'I moved house, how do I change where my subscription is delivered?',
    answer: 'change-address',
  },
  {
    subject: 'wrong address on order',
    body: 'I just placed an order with my old address, can I still change it?',
    answer: 'change-address',
  },
  // grinder-cleaning
  {
    subject: 'Grinder',
    body: 'My grinder is clogged and the coffee tastes bitter, how do I clean it?',
    answer: 'grinder-cleaning',
  },
  { subject: 'burrs', body: 'Can I wash the burrs with water?', answer: 'grinder-cleaning' },
  // notifications
  {
    subject: 'too many emails',
    body: 'Please stop sending me the newsletter and marketing emails',
    answer: 'notifications',
  },
  {
    subject: 'SMS',
    body: 'Can I get delivery updates by text message instead of email?',
    answer: 'notifications',
  },

  // Not answered by the knowledge base: a hand-off is the only right reply.
  {
    subject: 'Wholesale',
    body: 'We run a cafe and would like to buy 20 kilos a month at wholesale prices. Who do I talk to?',
    answer: null,
  },
  {
    subject: 'caffeine',
    body: 'How much caffeine is in your Ethiopian single origin?',
    answer: null,
  },
  {
    subject: 'job',
    body: 'Are you hiring baristas in Berlin? I would love to work for you',
    answer: null,
  },
  {
    subject: 'Espresso machine',
    body: 'Do you sell espresso machines or only grinders?',
    answer: null,
  },
  {
    subject: 'brew ratio',
    body: 'What ratio of coffee to water do you recommend for a french press?',
    answer: null,
  },
  {
    subject: 'Order by phone',
    body: 'Can I place an order over the phone? I am not good with websites',
    answer: null,
  },
  {
    subject: 'Grinder warranty',
    body: 'How long is the warranty on the grinder? The motor stopped working after a year',
    answer: null,
  },
  { subject: 'student discount', body: 'Do you offer a student discount code?', answer: null },
  {
    subject: 'pick up',
    body: 'Can I pick up my order at the roastery instead of having it delivered?',
    answer: null,
  },
  { subject: 'beans', body: 'Are your beans organic and fair trade certified?', answer: null },
  {
    subject: 'Account sharing',
    body: 'Can my partner and I share one account and one subscription with two addresses?',
    answer: null,
  },
  {
    subject: 'Price change',
    body: 'Why did the price of my subscription go up this month?',
    answer: null,
  },
  {
    subject: 'Hello',
    body: 'Hi, I just wanted to say the last batch was excellent. Thanks!',
    answer: null,
  },
  { subject: 'app', body: 'Is there a Beanly app for Android?', answer: null },
  {
    subject: 'decaf',
    body: 'How do you decaffeinate your decaf beans, is it the Swiss water process?',
    answer: null,
  },
]
