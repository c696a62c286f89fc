// A "third-party" chat widget, served from another origin (its own port).
(function () {
  var start = performance.now();
  while (performance.now() - start < 25) { /* vendor code parsing its config */ }
  var chat = document.createElement('div');
  chat.className = 'chat';
  chat.textContent = 'Chat with us';
  document.body.appendChild(chat);
})();
