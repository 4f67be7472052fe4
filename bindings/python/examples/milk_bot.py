"""A terminal bot: asks the shopping assistant for milk and adds one to the cart.

Start the sandbox, then run the bot::

    vizochok sandbox --addr 127.0.0.1:8787 &
    python examples/milk_bot.py --url ws://127.0.0.1:8787/v1/ws

It prints the assistant's reply and its product cards, presses "Add" on the
first card, and prints the whole cart the server confirmed. Exit code 0 when
the milk is in the cart.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import AsyncIterator, TypeVar

import vizochok

#: How long to wait for the assistant's reply and for the cart change.
WAIT_S = 15.0

E = TypeVar("E")


class Stopped(Exception):
    """The widget gave up (a wrong key, say); on_error said why."""


def show_error(error: vizochok.WidgetError) -> None:
    print(f"error: {error.code.value}: {error.message}", file=sys.stderr)


async def next_of(events: AsyncIterator[vizochok.Event], kind: type[E]) -> E:
    """The next event of a kind, or `Stopped` if the widget stops first."""
    async for event in events:
        if isinstance(event, kind):
            return event
        if isinstance(event, vizochok.StateChanged) and event.state is vizochok.State.STOPPED:
            raise Stopped()
    raise Stopped()


async def run(url: str, api_key: str, store_id: str, query: str, language: str) -> int:
    widget = vizochok.Widget(
        api_key=api_key,
        store_id=store_id,
        server_url=url,
        language=language,
        on_error=show_error,
        on_connect=lambda: print("connected"),
    )
    events = widget.events()
    try:
        async with widget:  # connects; the message waits in the queue until then
            print(f"> {query}")
            widget.send_message(query)
            reply = (await asyncio.wait_for(next_of(events, vizochok.Response), WAIT_S)).reply
            print(f"assistant: {reply.text}")
            for number, card in enumerate(reply.products, 1):
                price = card.promo_price if card.promo_price is not None else card.price
                print(f"  {number}. {card.name} ({card.sku}) {price:.2f} / {card.unit}")
            if not reply.products:
                print("no products in the reply", file=sys.stderr)
                return 1

            milk = reply.products[0]
            print(f"> add {milk.name}")
            if widget.select_product(milk) is None:
                return 1
            cart = (await asyncio.wait_for(next_of(events, vizochok.CartChanged), WAIT_S)).cart
            print(f"cart ({cart.action.value}):")
            for item in cart.items:
                print(f"  {item.quantity:g} x {item.name} = {item.quantity * (item.promo_price or item.price):.2f}")
            print(f"total: {cart.total:.2f}")
            return 0 if any(item.sku == milk.sku for item in cart.items) else 1
    except Stopped:
        print("could not connect", file=sys.stderr)
        return 1
    except asyncio.TimeoutError:
        print("the assistant did not answer in time", file=sys.stderr)
        return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="ws://127.0.0.1:8787/v1/ws", help="the server's WebSocket URL")
    parser.add_argument("--api-key", default="pk_demo", help="the store's public api key")
    parser.add_argument("--store", default="demo-store", help="the store id")
    parser.add_argument("--language", default="en", help="en or uk")
    parser.add_argument("--query", default="milk", help="what to ask for")
    args = parser.parse_args()
    return asyncio.run(run(args.url, args.api_key, args.store, args.query, args.language))


if __name__ == "__main__":
    sys.exit(main())
