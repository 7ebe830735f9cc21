// Progressive enhancement: send upload forms with XHR to show a progress
// bar. Without JavaScript the forms post normally.
document.querySelectorAll('form.upload').forEach(function (form) {
  var bar = form.querySelector('progress');
  if (!bar || !window.FormData || form.enctype !== 'multipart/form-data') return;
  form.addEventListener('submit', function (ev) {
    var hasFile = Array.prototype.some.call(form.querySelectorAll('input[type=file]'), function (i) { return i.files && i.files.length; });
    if (!hasFile) return;
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    bar.hidden = false;
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      if (xhr.status < 400) { window.location.href = xhr.responseText.charAt(0) === '/' ? xhr.responseText : xhr.responseURL; }
      else { document.open(); document.write(xhr.responseText); document.close(); }
    };
    xhr.onerror = function () { bar.hidden = true; alert('Upload failed; please try again.'); };
    xhr.send(new FormData(form));
  });
});
