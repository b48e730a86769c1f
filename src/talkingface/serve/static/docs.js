// The API's own documentation, drawn by Swagger UI from files this service serves (no CDN, no inline script).
"use strict";
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
