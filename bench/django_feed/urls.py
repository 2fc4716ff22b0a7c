from django.urls import path

from .feeds import LatestSpanishFeed

urlpatterns = [path("es/rss.xml", LatestSpanishFeed())]
