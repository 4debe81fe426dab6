"""Every websocket route of the service, assembled from the apps."""

from iterations.routing import websocket_urlpatterns as iteration_routes
from jobs.routing import websocket_urlpatterns as jobs_routes
from prover.routing import websocket_urlpatterns as prover_routes
from training.routing import websocket_urlpatterns as training_routes

websocket_urlpatterns = [*jobs_routes, *prover_routes, *training_routes, *iteration_routes]
