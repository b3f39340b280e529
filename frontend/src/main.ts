// Entry point: registers the screens with the navigation and shows the login screen.
import "./style.css";
import { loadForms } from "./api";
import { go, Route, setRenderer } from "./nav";
import * as audit from "./screens/audit";
import * as changePassword from "./screens/changePassword";
import * as enroll from "./screens/enroll";
import * as enrollApp from "./screens/enrollApp";
import * as enrollSMS from "./screens/enrollSMS";
import * as login from "./screens/login";
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
  }
});

void loadForms().then(() => go({ name: "login" }));
