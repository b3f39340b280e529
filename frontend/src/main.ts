// Entry point: registers the screens with the navigation and shows the login screen.
import "./style.css";
import { loadForms } from "./api";
import { canRefresh, go, refresh, Route, setRenderer } from "./nav";
import { formsTouched } from "./ui";
import * as app from "./screens/app";
import * as apps from "./screens/apps";
import * as audit from "./screens/audit";
import * as changePassword from "./screens/changePassword";
import * as enroll from "./screens/enroll";
import * as enrollApp from "./screens/enrollApp";
import * as enrollSMS from "./screens/enrollSMS";
import * as login from "./screens/login";
import * as newApp from "./screens/newApp";
import * as newUser from "./screens/newUser";
import * as profile from "./screens/profile";
import * as recoveryCodes from "./screens/recoveryCodes";
import * as user from "./screens/user";
import * as users from "./screens/users";
import * as verify from "./screens/verify";

setRenderer((r: Route) => {
  switch (r.name) {
    case "login":
      return login.render(r);
    case "firstAdmin":
      return login.renderFirstAdmin();
    case "verify":
      return verify.render(r);
    case "enroll":
      return enroll.render(r);
    case "enrollApp":
      return enrollApp.render(r);
    case "enrollSMS":
      return enrollSMS.render(r);
    case "recoveryCodes":
      return recoveryCodes.render(r);
    case "changePassword":
      return changePassword.render(r);
    case "profile":
      return profile.render(r);
    case "users":
      return users.render(r);
    case "newUser":
      return newUser.render();
    case "user":
      return user.render(r);
    case "audit":
      return audit.render();
    case "apps":
      return apps.render(r);
    case "newApp":
      return newApp.render();
    case "app":
      return app.render(r);
    case "appSecret":
      return app.renderSecret(r);
  }
});

// F5 and Ctrl+R show the screen again with fresh data (the browser's reload would drop the
// console's screen); coming back to the window does too, unless a dialog is open or something
// was typed into a form, which it would throw away.
document.addEventListener("keydown", (ev) => {
  if (ev.key === "F5" || ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "r")) {
    ev.preventDefault();
    refresh();
  }
});
window.addEventListener("focus", () => {
  if (canRefresh() && !document.querySelector(".overlay") && !formsTouched()) refresh();
});

void loadForms().then(() => go({ name: "login" }));
