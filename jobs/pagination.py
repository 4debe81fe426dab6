from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Every list is paginated; scripts and the tree view may ask for bigger pages (`?page_size=`, up to 2000)."""

    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    page_size_query_param = "page_size"
    max_page_size = 2000
