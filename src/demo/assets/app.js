// The demo shop's own script. Each part exists to produce a metric.
(function () {
  'use strict';
  var cfg = window.DEMO || { inpBusyMs: 120, clsExtra: 0 };
  var busy = function (ms) {
    var until = performance.now() + ms;
    while (performance.now() < until) { /* main thread blocked on purpose */ }
  };
  var byId = function (id) { return document.getElementById(id); };
  // Scenarios wait for `[data-settled]`: every late effect of the page has been painted.
  var settle = function () {
    // A hero whose request starts late (--regress lcp=…) must have painted first.
    var hero = byId('hero');
    if (hero && !(hero.getAttribute('src') && hero.complete)) {
      hero.addEventListener('load', settle, { once: true });
      return;
    }
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { document.documentElement.dataset.settled = '1'; });
    });
  };

  // --regress lcp=…: the hero's request is made by this script, late.
  var lateHero = byId('hero');
  if (lateHero && lateHero.dataset.src) {
    setTimeout(function () { lateHero.src = lateHero.dataset.src; }, cfg.heroDelayMs || 0);
  }

  addEventListener('load', function () {
    // An analytics bootstrap that does all its work in onload: one long task (TBT).
    busy(90);
    // A promo banner that arrives late and pushes the page down (CLS).
    var slot = byId('banner-slot');
    if (!slot) return settle();
    setTimeout(function () {
      var b = document.createElement('div');
      b.className = 'banner';
      b.textContent = 'Free shipping on orders over $50';
      slot.appendChild(b);
      if (cfg.clsExtra > 0) setTimeout(cookieBar, 100);
      else settle();
    }, 50);
  });

  // --regress cls=X: a cookie bar painted, then moved by d px in a later frame of
  // the same session window. An element of height h moved by d in a vw x vh
  // viewport scores ((h + d) / vh) * (d / max(vw, vh)); solve for d.
  function cookieBar() {
    var vw = innerWidth, vh = innerHeight, h = 0.3 * vh, top = 0.05 * vh;
    var m = Math.max(vw, vh);
    var d = (-h + Math.sqrt(h * h + 4 * cfg.clsExtra * vh * m)) / 2;
    var bar = document.createElement('div');
    bar.className = 'cookie';
    bar.textContent = 'We use cookies to remember your cart.';
    bar.style.top = (scrollY + top) + 'px';
    bar.style.height = h + 'px';
    document.body.appendChild(bar);
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        bar.style.top = (scrollY + top + d) + 'px';
        settle();
      });
    });
  }

  // Product page: an "Add to cart" handler that recomputes everything synchronously (INP).
  var buy = byId('buy');
  if (buy) buy.addEventListener('click', function () {
    busy(cfg.inpBusyMs);
    var count = byId('cart-count');
    count.textContent = String(Number(count.textContent) + 1);
    byId('added').textContent = 'Added to your cart.';
  });

  // Search page: filtering as you type, a recommendations call that fails (5xx)
  // and a call into a widget that never loaded (an uncaught TypeError).
  var q = byId('q');
  if (q) {
    q.addEventListener('input', function () {
      var needle = q.value.toLowerCase();
      Array.prototype.forEach.call(byId('results').children, function (li) {
        li.style.display = li.textContent.toLowerCase().indexOf(needle) >= 0 ? '' : 'none';
      });
    });
    fetch('/api/recommendations').then(function (r) { return r.ok ? r.json() : null; });
    setTimeout(function () { window.recommendations.render(byId('results')); }, 0);
  }

  var checkout = byId('checkout');
  if (checkout) checkout.addEventListener('click', function () {
    byId('status').textContent = 'Checkout is closed: this is a demo.';
  });
})();
