// Renders the API's own OpenAPI document with Swagger UI (loaded just before this file, from this origin).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  // No badge from validator.swagger.io: nothing on this page reaches another origin.
  validatorUrl: "none",
});
