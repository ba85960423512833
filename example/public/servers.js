/* global document, fetch, URLSearchParams, FormData, setTimeout, clearTimeout */
// The RADIUS server form: tests the server as the admin types the address (after a short pause) or on
// "Test": "testing…", then "Reachable (N ms)" or "Failed: why". Without scripts, "Test" posts the form
// and the page comes back with the same result.
'use strict';
(function () {
  var form = document.getElementById('server-form');
  if (!form) return;
  var address = document.getElementById('address');
  var result = document.getElementById('address-test');
  var button = document.getElementById('test-button');
  var url = form.getAttribute('data-test-url');
  var sequence = 0;
  var timer;

  function show(state, text) {
    result.className = 'test-result ' + state;
    result.textContent = text;
  }

  function test() {
    clearTimeout(timer);
    if (address.value.trim() === '') return show('', '');
    var mine = ++sequence;
    show('testing', 'testing\u2026');
    fetch(url, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString(),
      credentials: 'same-origin',
    })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (body) {
        if (mine === sequence) show(body.state, body.text);
      })
      .catch(function (err) {
        if (mine === sequence) show('failed', 'Failed: the test could not run (' + err.message + ')');
      });
  }

  address.addEventListener('input', function () {
    clearTimeout(timer);
    sequence++; // an older answer is for another address
    show('', '');
    timer = setTimeout(test, 700);
  });
  button.addEventListener('click', function (event) {
    event.preventDefault();
    test();
  });
})();
