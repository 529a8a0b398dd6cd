"""Smoke test of the browser harness: signing in through the login page."""

import pytest

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_a_dispatcher_who_signs_in_lands_on_the_home_page(world, site_url, browser_page):
    # when
    log_in(browser_page, world.dispatcher)
    # then
    assert browser_page.url == f"{site_url}/"
    assert browser_page.locator("h1").inner_text() == "Today's work"
    assert "Dora Dispatcher" in browser_page.locator("header, nav, body").first.inner_text()


def test_a_wrong_password_stays_on_the_login_page(world, browser_page):
    # given
    browser_page.goto("/login/")
    # when
    browser_page.locator("input[name=username]").fill(world.dispatcher.user.email)
    browser_page.locator("input[name=password]").fill("not-the-password")
    browser_page.locator("button[type=submit]").click()
    # then
    browser_page.wait_for_load_state()
    assert browser_page.url.endswith("/login/")
    assert browser_page.locator("input[name=password]").is_visible()


def test_the_login_page_fits_a_phone_screen(phone_page):
    # when
    phone_page.goto("/login/")
    # then
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert phone_page.locator("button[type=submit]").is_visible()


def test_two_people_sign_in_side_by_side_in_their_own_browsers(world, open_page):
    # given
    desk, phone = open_page(), open_page(phone=True)
    # when
    log_in(desk, world.dispatcher)
    log_in(phone, world.technician)
    # then
    desk.reload()
    assert "Dora Dispatcher" in desk.content()
    assert "Tom Technician" in phone.content() and "Dora Dispatcher" not in phone.content()
